// What a checkpoint holds besides its optimizers and random states, in one typed place:
// the resolved config, the loop's TrainState and the config's hash (config.yaml and
// state.json), and the trained protection module. Trainers write it; export and eval read
// it, so the format is defined once.
#pragma once

#include "data/loader.h"
#include "losses/eps.h"
#include "networks/generator.h"
#include "networks/guide.h"
#include "protection/config.h"
#include "protection/universal_perturbation.h"

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

namespace mf::protection {

namespace fs = std::filesystem;

// Everything the training loop carries from step to step.
struct TrainState {
  int64_t step = 0;            // optimizer steps done
  data::LoaderPosition data;   // the next training batch
  losses::EpsControl eps;      // the ratio controller (scaled epsilon)
  std::vector<int64_t> image_size;  // [H, W] of the training images (the first batch's), empty before
  double best_val = INFINITY;  // lowest validation loss so far, and its step
  int64_t best_step = -1;
};

// The file names (without .pt) of the trained modules in a checkpoint.
inline constexpr const char* kGeneratorModule = "generator";
inline constexpr const char* kUniversalModule = "perturbation";

// Writes config.yaml and state.json into the checkpoint folder `dir`.
void write_checkpoint_content(const fs::path& dir, const Config& config, const TrainState& state);

struct CheckpointContent {
  Config config;
  TrainState state;
  std::string config_sha256;
};
// Reads them back from a checkpoint folder; InputError when they are missing or malformed.
CheckpointContent read_checkpoint_content(const fs::path& dir);

// The protection a spam or uep checkpoint trained: its module with the saved weights, in
// eval mode, and its eps schedule at the saved step (ratio control restored).
struct TrainedProtection {
  CheckpointContent content;
  std::shared_ptr<networks::Generator> generator;    // spam
  std::shared_ptr<networks::Guide> guide;            // spam with generator.guide
  std::shared_ptr<UniversalPerturbation> universal;  // uep
  losses::EpsSchedule eps;
  double eps_value() const { return eps.value(content.state.step); }
  // The perturbation of images x [N, 3, H, W] in [0, 1].
  at::Tensor perturbation(const at::Tensor& x) const;
};
// InputError for another trainer kind (nothing to load) or a checkpoint that does not fit.
TrainedProtection load_trained_protection(const fs::path& checkpoint_dir);

}  // namespace mf::protection
