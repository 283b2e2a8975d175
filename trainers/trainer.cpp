#include "trainers/trainer.h"

#include "checkpoints/files.h"
#include "checkpoints/tensors.h"
#include "core/device.h"
#include "core/error.h"
#include "core/log.h"
#include "core/signals.h"
#include "data/bad_files.h"
#include "data/builders.h"
#include "data/image_io.h"
#include "data/random.h"
#include "networks/ensemble.h"
#include "protection/config_diff.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/optim/adamw.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <numbers>

namespace mf::trainers {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The random state this process trains with: the CPU generator's, and the generator of
// the GPU it trains on (saved as "cuda", so that a run resumes on any GPU index or none).
std::map<std::string, at::Tensor> rng_states(const c10::Device& device) {
  std::map<std::string, at::Tensor> out{{"cpu", at::detail::getDefaultCPUGenerator().get_state()}};
  if (device.is_cuda()) out["cuda"] = at::globalContext().defaultGenerator(device).get_state();
  return out;
}

void restore_rng_states(const std::map<std::string, at::Tensor>& states, const c10::Device& device) {
  for (const auto& [name, state] : states) {
    if (name != "cpu" && !device.is_cuda()) {
      log::warn("the checkpoint holds a GPU random state and this run is on the CPU: its GPU random stream is not restored");
      continue;
    }
    at::Generator gen = name == "cpu" ? at::detail::getDefaultCPUGenerator() : at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
  }
}

// Validation and samples draw random numbers (noise channels, robustness transforms) from
// a copy of the training stream: how often they run does not change training, and a run
// resumed from a checkpoint taken before them equals one that ran them.
class KeepRandomState {
 public:
  explicit KeepRandomState(const c10::Device& device) : device_(device), saved_(rng_states(device)) {}
  ~KeepRandomState() { restore_rng_states(saved_, device_); }
  KeepRandomState(const KeepRandomState&) = delete;
  KeepRandomState& operator=(const KeepRandomState&) = delete;

 private:
  c10::Device device_;
  std::map<std::string, at::Tensor> saved_;
};

// RNG states travel between ranks as pickled dicts.
std::string pickle(const std::map<std::string, at::Tensor>& states) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [k, v] : states) dict.insert(k, v);
  auto bytes = torch::pickle_save(dict);
  return {bytes.begin(), bytes.end()};
}

std::map<std::string, at::Tensor> unpickle(const std::string& text) {
  std::map<std::string, at::Tensor> out;
  for (const auto& item : torch::pickle_load(std::vector<char>(text.begin(), text.end())).toGenericDict()) out[item.key().toStringRef()] = item.value().toTensor();
  return out;
}

// In rng.pt, rank 0's states keep their plain names ("cpu", "cuda0"); rank r's are "rank<r>/...".
std::string rng_prefix(int64_t rank) { return rank == 0 ? "" : fmt::format("rank{}/", rank); }

}  // namespace

Trainer::Trainer(const Config& config, std::shared_ptr<dist::Context> dist)
    : config_(config), dist_(std::move(dist)), device_(select_device(config.run.device, dist_->local_rank(), dist_->world_size())) {
  // LibTorch seeds its default generator from the OS; everything a run initialises (victims,
  // generator) must instead follow run.seed.
  torch::manual_seed(static_cast<uint64_t>(config.run.seed));
  if (device_.is_cuda()) at::globalContext().setBenchmarkCuDNN(config.trainer.cudnn_benchmark);
  run_dir_ = fs::path(config.run.out_dir) / config.run.name;
  data_ = data::build_datasets(config.data, static_cast<uint64_t>(config.run.seed));
}

double Trainer::learning_rate() const {
  const auto& t = config_.trainer;
  const double step = static_cast<double>(state_.step);
  if (step < t.warmup_steps) return t.lr * (step + 1) / static_cast<double>(t.warmup_steps);
  const double progress = (step - t.warmup_steps) / std::max<double>(1, static_cast<double>(t.steps - t.warmup_steps));
  return t.lr * (t.lr_floor + (1 - t.lr_floor) * 0.5 * (1 + std::cos(std::numbers::pi * std::min(progress, 1.0))));
}

torch::optim::AdamWOptions adamw_options(const protection::TrainerConfig& t) {
  return torch::optim::AdamWOptions(t.lr).betas({t.betas[0], t.betas[1]}).weight_decay(t.weight_decay);
}

at::Tensor clip_gradients(const std::vector<at::Tensor>& parameters, double max_norm) {
  std::vector<at::Tensor> grads;
  for (const auto& p : parameters) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return at::zeros({});
  at::Tensor norm = at::stack(at::_foreach_norm(grads)).norm();
  at::_foreach_mul_(grads, (max_norm / (norm + 1e-6)).clamp_max(1));
  return norm;
}

void Trainer::apply_learning_rate(torch::optim::Optimizer& optimizer) const {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(learning_rate());
}

uint64_t Trainer::step_seed(uint64_t salt) const {
  const uint64_t seed = data::mix(static_cast<uint64_t>(config_.run.seed), static_cast<uint64_t>(state_.step), salt);
  return dist_->rank() == 0 ? seed : data::mix(seed, static_cast<uint64_t>(dist_->rank()));
}

StepMetrics Trainer::accumulate(const std::function<StepMetrics(int64_t micro)>& micro_step) {
  StepMetrics m;
  const int64_t n = config_.trainer.grad_accum;
  for (int64_t micro = 0; micro < n; ++micro) {
    if (micro == n - 1 && gradients_) gradients_->arm();
    losses::add_scaled(m, micro_step(micro), 1.0 / static_cast<double>(n));
  }
  if (gradients_) gradients_->finish();
  return average_over_ranks(m);
}

// Every rank computes the same metric names (they follow from the config), so the values
// line up by name.
StepMetrics Trainer::average_over_ranks(const StepMetrics& metrics) const {
  if (!dist_->distributed() || metrics.empty()) return metrics;
  std::vector<at::Tensor> values;
  for (const auto& [k, v] : metrics) values.push_back(v.detach().to(device_, at::kDouble).reshape({}));
  at::Tensor t = at::stack(values);
  dist_->sum(t);
  t.div_(static_cast<double>(dist_->world_size()));
  StepMetrics out;
  int64_t i = 0;
  for (const auto& [k, v] : metrics) out[k] = t[i++];
  return out;
}

void Trainer::average_over_ranks(std::vector<at::Tensor>& tensors) const {
  if (!dist_->distributed() || tensors.empty()) return;
  std::vector<at::Tensor> flat;
  for (const auto& t : tensors) flat.push_back(t.reshape(-1));
  at::Tensor all = at::cat(flat);
  dist_->sum(all);
  all.div_(static_cast<double>(dist_->world_size()));
  int64_t offset = 0;
  for (auto& t : tensors) {
    t = all.slice(0, offset, offset + t.numel()).view_as(t);
    offset += t.numel();
  }
}

data::Batch Trainer::next_batch() {
  const auto began = Clock::now();
  data::Batch b = loader_->next();
  data_wait_ms_ += std::chrono::duration<double, std::milli>(Clock::now() - began).count();
  images_ += b.images.size(0) * dist_->world_size();
  return b.to(device_);
}

void Trainer::init_from(const fs::path& path) {
  auto named = modules();
  if (named.empty()) fail_input("--init-from: trainer {} has no weights to initialise", config_.trainer.kind);
  fs::path file = fs::is_directory(path) ? checkpoints::resolve_checkpoint(path).dir / (named.at(0).first + ".pt") : path;
  checkpoints::load_module(*named.at(0).second, file, named.at(0).first);
  log::info("initialised the {} from '{}'", named.at(0).first, file.string());
}

void Trainer::prepare_run_folder(bool resuming) {
  fs::create_directories(run_dir_ / "samples");
  log::add_file(run_dir_ / "train.log");
  checkpoints::write_file_atomic(run_dir_ / "config.yaml", protection::to_yaml(config_));
  if (auto names = data_.train->class_names(); !names.empty()) checkpoints::write_file_atomic(run_dir_ / "classes.json", json(names).dump() + "\n");
  // On resume, the lines logged after the checkpoint belong to work that is redone.
  std::vector<std::string> kept;
  if (resuming && fs::exists(run_dir_ / "metrics.jsonl")) {
    std::ifstream in(run_dir_ / "metrics.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto j = json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("step", int64_t{0}) <= state_.step) kept.push_back(line);
    }
  }
  std::string text;
  for (const auto& l : kept) text += l + "\n";
  checkpoints::write_file_atomic(run_dir_ / "metrics.jsonl", text);
  metrics_file_.open(run_dir_ / "metrics.jsonl", std::ios::app);
}

void Trainer::resume(const fs::path& dir) {
  const auto content = protection::read_checkpoint_content(dir);
  const Config& saved = content.config;
  if (auto incompatible = protection::incompatible_keys(saved, config_); !incompatible.empty()) {
    fail_input("checkpoint '{}' was made with another architecture; these keys differ: {}", dir.string(), fmt::join(incompatible, ", "));
  }
  if (auto changed = protection::changed_keys(saved, config_); !changed.empty()) {
    log::warn("resuming with changed config keys (the run will not equal an uninterrupted one): {}", fmt::join(changed, ", "));
  }
  for (auto& [name, module] : modules()) checkpoints::load_module(*module, dir / (name + ".pt"), name);
  for (auto& [name, optimizer] : optimizers()) checkpoints::load_optimizer(*optimizer, dir / (name + ".pt"));
  state_ = content.state;
  std::map<std::string, at::Tensor> mine;
  const std::string prefix = rng_prefix(dist_->rank());
  for (auto& [name, state] : checkpoints::load_tensors(dir / "rng.pt")) {
    if (prefix.empty() ? name.find('/') == std::string::npos : name.starts_with(prefix)) mine[name.substr(prefix.size())] = state;
  }
  if (mine.empty()) {
    log::warn("checkpoint '{}' has no random state for rank {} (it was saved by fewer ranks); this rank's random stream restarts", dir.string(), dist_->rank());
  }
  restore_rng_states(mine, device_);
  log::info("resumed from '{}' at step {}", dir.string(), state_.step);
}

void Trainer::broadcast_modules() {
  if (!dist_->distributed()) return;
  at::NoGradGuard no_grad;
  for (auto& [name, module] : modules()) {
    for (auto& p : module->parameters()) dist_->broadcast(p);
    for (auto& b : module->buffers()) dist_->broadcast(b);
  }
}

void Trainer::save_checkpoint(bool milestone) {
  // Every rank's random state goes into rank 0's checkpoint.
  const auto all_rng = dist_->all_gather("rng", pickle(rng_states(device_)));
  if (!dist_->is_main()) return;
  std::map<std::string, at::Tensor> rng;
  for (int64_t r = 0; r < dist_->world_size(); ++r) {
    for (auto& [name, state] : unpickle(all_rng[static_cast<size_t>(r)])) rng[rng_prefix(r) + name] = state;
  }
  state_.data = loader_->position();
  auto dir = checkpoints_->save(state_.step, [&](const fs::path& tmp) {
    for (auto& [name, module] : modules()) checkpoints::save_module(*module, tmp / (name + ".pt"));
    for (auto& [name, optimizer] : optimizers()) checkpoints::save_optimizer(*optimizer, tmp / (name + ".pt"));
    checkpoints::save_tensors(rng, tmp / "rng.pt");
    protection::write_checkpoint_content(tmp, config_, state_);
  }, milestone);
  log::debug("checkpoint {}", dir.string());
}

void Trainer::log_metrics(const Metrics& metrics) {
  json line = {{"step", state_.step}};
  for (const auto& [k, v] : metrics) line[k] = std::isfinite(v) ? json(v) : json(nullptr);
  metrics_file_ << line.dump() << "\n";
  metrics_file_.flush();
}

void Trainer::write_samples() {
  KeepRandomState keep(device_);
  auto s = samples();
  if (!s) return;
  at::NoGradGuard no_grad;
  at::Tensor orig = s->original.to(at::kCPU).to(at::kFloat), prot = s->protected_images.to(at::kCPU).to(at::kFloat);
  at::Tensor pert = ((prot - orig) / (2 * std::max(s->eps, 1e-6)) + 0.5).clamp(0, 1);
  // Small images are enlarged so the grid can be looked at.
  const int64_t scale = std::max<int64_t>(1, 128 / orig.size(2));
  auto big = [&](const at::Tensor& t) { return scale > 1 ? at::upsample_nearest2d(t, {t.size(2) * scale, t.size(3) * scale}) : t; };
  orig = big(orig), prot = big(prot), pert = big(pert);
  at::Tensor gap = at::ones({orig.size(0), 3, orig.size(2), 4});
  at::Tensor rows = at::cat({orig, gap, prot, gap, pert}, 3);  // [N, 3, H, 3W + 8]
  at::Tensor hgap = at::ones({rows.size(0), 3, 4, rows.size(3)});
  at::Tensor grid = at::cat({rows, hgap}, 2).permute({1, 0, 2, 3}).reshape({3, -1, rows.size(3)});
  data::write_image(run_dir_ / "samples" / fmt::format("step_{:06d}.png", state_.step), grid);
}

void Trainer::run_validation() {
  Metrics m = [&] {
    KeepRandomState keep(device_);
    return validate();
  }();
  last_validation_.clear();
  if (m.empty()) return;  // no validation images (data.val_fraction: 0)
  for (const auto& [k, v] : m) last_validation_["val/" + k] = v;
  if (auto it = m.find("loss/total"); it != m.end() && it->second < state_.best_val) {
    state_.best_val = it->second;
    state_.best_step = state_.step;
  }
  log_metrics(last_validation_);
  std::vector<std::string> shown;
  for (const auto& [k, v] : m) {
    if (k.find("rate") != std::string::npos || k.find("accuracy") != std::string::npos || k == "ssim" || k == "psnr") shown.push_back(fmt::format("{} {:.4g}", k, v));
  }
  if (progress_) progress_->finish();
  log::info("validation at step {}: {}", state_.step, fmt::join(shown, ", "));
}

void Trainer::write_summary(double images_per_second) {
  add_summary("images/s (training)", fmt::format("{:.1f}", images_per_second));
  add_summary("steps", std::to_string(state_.step));
  json j;
  for (const auto& [k, v] : summary_) j[k] = v;
  for (const auto& [k, v] : last_validation_) j["metrics"][k] = v;
  checkpoints::write_file_atomic(run_dir_ / "summary.json", j.dump(2) + "\n");
  std::vector<std::vector<std::string>> rows{{"summary", ""}};
  for (const auto& [k, v] : summary_) rows.push_back({k, v});
  std::string table = networks::format_table(rows);
  log::info("run '{}' finished; folder {}\n{}", config_.run.name, run_dir_.string(), table);
}

std::optional<checkpoints::Checkpoint> Trainer::checkpoint_to_resume(const TrainOptions& options) {
  std::optional<checkpoints::Checkpoint> from;
  if (options.resume == "auto") {
    from = checkpoints_->newest_valid();
    if (!from) log::info("no valid checkpoint in '{}'; starting from scratch", (run_dir_ / "checkpoints").string());
  } else if (!options.resume.empty()) {
    from = checkpoints::resolve_checkpoint(options.resume);
  } else if (!checkpoints_->list().empty()) {
    fail_input("run folder '{}' already has checkpoints; pass --resume auto to continue it, or set run.name for a new run", run_dir_.string());
  }
  // Every rank reads the run folder (shared by all nodes); they must agree on where to start.
  dist_->require_same("checkpoint to resume from", from ? from->dir.string() : "none");
  return from;
}

int Trainer::train(const TrainOptions& options) {
  install_stop_handlers();
  dist_->require_same("config (sha256 of the resolved config)", checkpoints::sha256(protection::to_yaml(config_)));
  // Each rank has its own random stream (rank 0 keeps the single-process one).
  if (dist_->rank() > 0) torch::manual_seed(data::mix(static_cast<uint64_t>(config_.run.seed), static_cast<uint64_t>(dist_->rank())));
  const bool main = dist_->is_main();
  checkpoints_ = std::make_unique<checkpoints::CheckpointManager>(run_dir_ / "checkpoints", config_.trainer.keep_last);
  auto from = checkpoint_to_resume(options);
  if (from) resume(from->dir);
  else if (!options.init_from.empty()) init_from(options.init_from);
  broadcast_modules();
  if (main) prepare_run_folder(from.has_value());

  std::vector<at::Tensor> trained;
  for (auto& [name, module] : modules()) {
    for (auto& p : module->parameters()) {
      if (p.requires_grad()) trained.push_back(p);
    }
  }
  gradients_ = std::make_unique<dist::GradientBuckets>(*dist_, trained, config_.dist.bucket_mb);
  auto loader_opts = data::loader_options(config_.data, true, static_cast<uint64_t>(config_.run.seed));
  loader_opts.pin_memory = device_.is_cuda();
  loader_opts.channels_last = config_.trainer.channels_last;
  loader_opts.rank = dist_->rank();
  loader_opts.world_size = dist_->world_size();
  loader_ = std::make_unique<data::Loader>(data_.train, loader_opts, state_.data);
  if (main) log::info("training on {}", describe_device(device_));
  if (dist_->distributed() && main) {
    const int64_t accum = config_.trainer.grad_accum;
    log::info("data-parallel over {} ranks ({}): global batch {} ({} per rank{}), gradients in {} bucket(s) of up to {} MiB", dist_->world_size(),
              dist_->backend(), config_.data.batch_size * accum * dist_->world_size(), config_.data.batch_size,
              accum > 1 ? fmt::format(" x {} accumulated", accum) : "", gradients_->bucket_count(), config_.dist.bucket_mb);
  }

  const auto& t = config_.trainer;
  std::optional<Progress> progress;
  if (main) progress.emplace("step", t.steps, state_.step), progress_ = &*progress;
  struct ForgetProgress {
    Progress*& pointer;
    ~ForgetProgress() { pointer = nullptr; }
  } forget_progress{progress_};
  const auto start = Clock::now();
  const int64_t start_images = images_;
  auto last_checkpoint = Clock::now();
  int64_t saved_at = from ? state_.step : -1;
  const int64_t stop_at = options.stop_after > 0 ? state_.step + options.stop_after : -1;
  auto images_per_second = [&] {
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    return s > 0 ? static_cast<double>(images_ - start_images) / s : 0.0;
  };
  auto end_progress = [&] {
    if (progress) progress->finish();
  };
  // Step time and data wait are means over the steps since the last metrics line: the
  // metrics are read (and so a GPU waited for) only there.
  double busy_ms = 0;
  int64_t unlogged_steps = 0;
  std::vector<std::pair<std::string, double>> shown;
  try {
    while (state_.step < t.steps) {
      const auto step_began = Clock::now();
      StepMetrics step_metrics = run_step();
      ++state_.step;
      ++unlogged_steps;
      const bool last = state_.step == t.steps;
      const bool log_now = state_.step % t.log_every == 0 || last;
      Metrics m;
      if (log_now) m = losses::values(step_metrics);  // waits for the device: part of the step's time
      busy_ms += std::chrono::duration<double, std::milli>(Clock::now() - step_began).count();
      if (log_now) {
        m["time/step_ms"] = busy_ms / static_cast<double>(unlogged_steps);
        m["time/data_wait_ms"] = data_wait_ms_ / static_cast<double>(unlogged_steps);
        busy_ms = data_wait_ms_ = 0, unlogged_steps = 0;
        m["lr"] = learning_rate();
        m["images_per_s"] = images_per_second();
        m["data/skipped_files"] = static_cast<double>(data_.bad_files->count());
        if (main) log_metrics(m);
        shown = {{"loss", m["loss/total"]}};
        for (const char* k : {"loss/adversarial", "loss/quality", "eps"}) {
          if (m.count(k)) shown.emplace_back(k, m[k]);
        }
      }
      if (progress) progress->update(state_.step, shown, state_.step % t.log_every == 0);
      if (main && t.sample_every > 0 && state_.step % t.sample_every == 0) write_samples();
      // A signal or the checkpoint clock on any rank decides for all ranks.
      at::Tensor agreed = at::tensor({static_cast<double>(stop_signal()),
                                      t.checkpoint_minutes > 0 && std::chrono::duration<double>(Clock::now() - last_checkpoint).count() >= 60 * t.checkpoint_minutes ? 1.0 : 0.0},
                                     at::kDouble);
      dist_->max(agreed);
      const int signal = static_cast<int>(agreed[0].item<double>());
      const bool pause = state_.step == stop_at && !last;
      const bool due = (t.checkpoint_every > 0 && state_.step % t.checkpoint_every == 0) || agreed[1].item<double>() > 0;
      const bool milestone = t.milestone_every > 0 && state_.step % t.milestone_every == 0;
      if (signal || pause || due || last || milestone) {
        save_checkpoint(milestone);
        saved_at = state_.step;
        last_checkpoint = Clock::now();
      }
      if (signal) {
        end_progress();
        log::warn("stopped by signal {} after step {}; checkpoint saved, resume with --resume auto", signal, state_.step);
        return 128 + signal;
      }
      if (pause) {
        end_progress();
        log::info("paused after step {} as asked (--stop-after); checkpoint saved, resume with --resume auto", state_.step);
        return 0;
      }
      if (main && t.val_every > 0 && state_.step % t.val_every == 0 && !last) run_validation();
    }
    if (saved_at != state_.step) save_checkpoint();
    end_progress();
    if (main) {
      run_validation();
      write_samples();
      finish(last_validation_);
      write_summary(images_per_second());
    }
    // No rank leaves while another may still need the job's store.
    dist_->barrier();
  } catch (...) {
    end_progress();
    if (metrics_file_.is_open()) metrics_file_.flush();
    log::error("training stopped at step {}; the last committed checkpoint is intact", state_.step);
    throw;
  }
  return 0;
}

}  // namespace mf::trainers
