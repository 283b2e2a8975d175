// The whole run configuration: one section per component, read from YAML plus --set
// overrides. Its reference is docs/config.md (`maskforge config schema`).
#pragma once

#include "core/dist/dist_config.h"
#include "core/run_config.h"
#include "data/data_config.h"
#include "losses/eps.h"
#include "losses/loss_config.h"
#include "losses/robustness.h"
#include "networks/generator_config.h"
#include "networks/victim_config.h"
#include "protection/trainer_config.h"

#include <filesystem>
#include <string>
#include <vector>

namespace mf::protection {

struct Config {
  static constexpr int64_t kFormatVersion = 1;

  int64_t version = kFormatVersion;
  RunConfig run;
  data::DataConfig data;
  networks::GeneratorConfig generator;
  std::vector<networks::VictimConfig> victims;
  std::vector<losses::LossConfig> losses;
  losses::EpsConfig eps;
  std::vector<losses::TransformConfig> robustness;
  TrainerConfig trainer;
  DistConfig dist;

  template <class V>
  void visit(V& v) {
    v("version", version, "config format version; this build reads 1", config::in_range(1, 1));
    v("run", run, "the run folder and the process");
    v("data", data, "the dataset and the loader");
    v("generator", generator, "the SPAM generator network");
    v("victims", victims, "the frozen models the protection is trained against");
    v("losses", losses, "the weighted loss terms");
    v("eps", eps, "the perturbation budget (scaled epsilon)");
    v("robustness", robustness, "random transforms the protected image passes through before the victims see it");
    v("trainer", trainer, "what is trained and how");
    v("dist", dist, "data-parallel training");
  }

  // Checks that span sections (names that refer to other sections).
  void validate() const;
};

// Reads CONFIG plus --set overrides; fills run.name from the file name when empty.
Config load_config(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});

// The resolved config as YAML (what `maskforge config show` prints).
std::string to_yaml(const Config& config);

// The Markdown reference (docs/config.md).
std::string schema_markdown();

}  // namespace mf::protection
