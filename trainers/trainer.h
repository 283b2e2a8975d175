// Trainer: the shared training loop. A builder (trainers/trainers.cpp) wires a trainer from
// the config; train() runs the loop, which calls run_step() once per optimizer step and the
// hooks after it in a documented order:
//
//   after each step   metrics line (every log_every) and progress  ->  sample grid
//                     (sample_every)  ->  checkpoint (checkpoint_every, checkpoint_minutes,
//                     or a stop signal)  ->  validation (val_every)
//   at the end        checkpoint  ->  validation  ->  summary     (also after a stop signal:
//                     checkpoint only, then exit 128 + signal)
//
// Checkpointing comes before validation so that a failing validation still leaves one. All
// loop state lives in TrainState; a checkpoint is that state plus the trainer's modules,
// optimizers and RNG states, so a resumed run continues exactly as if never stopped.
//
// Data-parallel (dist::Context of several ranks): every rank runs the loop on its shard of
// the data; modules start from rank 0's values; gradients and step metrics are averaged
// over the ranks; decisions that depend on time or signals are agreed on by all ranks;
// only rank 0 writes the run folder (logs, metrics, samples, validation, checkpoints with
// every rank's RNG state).
#pragma once

#include "checkpoints/manager.h"
#include "core/dist/context.h"
#include "core/dist/gradient_buckets.h"
#include "core/progress.h"
#include "data/loader.h"
#include "losses/term.h"
#include "protection/checkpoint_content.h"

#include <nlohmann/json_fwd.hpp>
#include <torch/nn/module.h>
#include <torch/optim/adamw.h>
#include <torch/optim/optimizer.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

namespace mf::trainers {

namespace fs = std::filesystem;
using losses::Metrics;
using losses::StepMetrics;
using protection::Config;
using protection::TrainState;

struct TrainOptions {
  std::string resume;      // "", "auto" (newest valid checkpoint of the run folder) or a checkpoint path
  std::string init_from;   // a checkpoint or weights file: generator weights only
  int64_t stop_after = 0;  // > 0: stop with a checkpoint after this many steps of this invocation
};

// Images for a sample grid: each row shows original | protected | perturbation (amplified).
struct SampleImages {
  at::Tensor original, protected_images;
  double eps = 0;  // for amplifying the perturbation to the full range
};

class Trainer {
 public:
  // `dist`: this process's place in a data-parallel job; null for a single process.
  Trainer(const Config& config, std::shared_ptr<dist::Context> dist);
  virtual ~Trainer() = default;

  // Runs (or resumes) the run to trainer.steps. Returns the exit code: 0, or 128 + signal
  // when stopped by SIGINT/SIGTERM after saving a checkpoint.
  int train(const TrainOptions& options);

 protected:
  // One optimizer step. Returns its metrics, averaged over the ranks, as tensors: the loop
  // reads them on the host only at the steps it logs (no device sync in between).
  virtual StepMetrics run_step() = 0;
  // Metrics on the validation set (the loop prefixes them with "val/"); "loss/total" is
  // tracked as the best-so-far.
  virtual Metrics validate() = 0;
  // Images for samples/step_N.png, if the trainer makes pictures.
  virtual std::optional<SampleImages> samples() { return std::nullopt; }
  // What a checkpoint holds besides TrainState: named modules and optimizers.
  virtual std::vector<std::pair<std::string, torch::nn::Module*>> modules() = 0;
  virtual std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() = 0;
  // Called once the run is done (after the final validation): exports and summary rows.
  virtual void finish(const Metrics& validation) {}
  // --init-from: loads the generator (or the trained module) only.
  virtual void init_from(const fs::path& path);

  // The next training batch on the device (the loader starts at state_.data).
  data::Batch next_batch();
  // Runs trainer.grad_accum micro-steps of `micro_step` (a forward and backward of one batch,
  // returning its metrics), then averages the gradients of modules() over the ranks (the
  // last micro-step's backward starts the all-reduce) and returns the mean metrics.
  StepMetrics accumulate(const std::function<StepMetrics(int64_t micro)>& micro_step);
  // Each metric's mean over the ranks.
  StepMetrics average_over_ranks(const StepMetrics& metrics) const;
  // Each tensor replaced by its mean over the ranks (one all-reduce for all of them).
  void average_over_ranks(std::vector<at::Tensor>& tensors) const;
  // The learning rate of the current step: linear warm-up, then cosine decay to lr_floor.
  double learning_rate() const;
  // Sets every parameter group of `optimizer` to the current learning rate.
  void apply_learning_rate(torch::optim::Optimizer& optimizer) const;
  // A seed for the randomness of the current step (robustness, prompts): resumes exactly.
  uint64_t step_seed(uint64_t salt = 0) const;
  // The summary table printed and written at the end.
  void add_summary(const std::string& name, const std::string& value) { summary_.emplace_back(name, value); }

  const Config& config_;
  std::shared_ptr<dist::Context> dist_;
  c10::Device device_;
  fs::path run_dir_;
  TrainState state_;
  data::DatasetSplits data_;
  Progress* progress_ = nullptr;

 private:
  void prepare_run_folder(bool resuming);
  std::optional<checkpoints::Checkpoint> checkpoint_to_resume(const TrainOptions& options);
  void resume(const fs::path& checkpoint);
  void broadcast_modules();
  void save_checkpoint(bool milestone = false);
  void log_metrics(const Metrics& metrics);
  void write_samples();
  void run_validation();
  void write_summary(double images_per_second);

  std::unique_ptr<data::Loader> loader_;
  std::unique_ptr<dist::GradientBuckets> gradients_;
  std::unique_ptr<checkpoints::CheckpointManager> checkpoints_;
  std::ofstream metrics_file_;
  Metrics last_validation_;
  std::vector<std::pair<std::string, std::string>> summary_;
  int64_t images_ = 0;
  double data_wait_ms_ = 0;  // time waiting for batches since the last metrics line
};

// AdamW with the trainer section's learning rate, betas and weight decay.
torch::optim::AdamWOptions adamw_options(const protection::TrainerConfig& trainer);
// Scales the gradients of `parameters` so that their global L2 norm is at most `max_norm`;
// returns the norm before clipping, as a tensor (torch::nn::utils::clip_grad_norm_ returns
// a double, which waits for the device every step).
at::Tensor clip_gradients(const std::vector<at::Tensor>& parameters, double max_norm);

// The trainer `config` names, built and wired; `dist` null for a single process.
std::unique_ptr<Trainer> build_trainer(const Config& config, std::shared_ptr<dist::Context> dist = nullptr);

}  // namespace mf::trainers
