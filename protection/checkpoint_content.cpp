#include "protection/checkpoint_content.h"

#include "checkpoints/files.h"
#include "checkpoints/tensors.h"
#include "core/error.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace mf::protection {
namespace {

using json = nlohmann::json;

json to_json(const TrainState& s) {
  return {{"step", s.step},
          {"data_epoch", s.data.epoch},
          {"data_batch", s.data.batch},
          {"eps", s.eps.eps},
          {"eps_baseline", std::isnan(s.eps.baseline) ? json() : json(s.eps.baseline)},
          {"image_size", s.image_size},
          {"best_val", std::isfinite(s.best_val) ? s.best_val : -1.0},
          {"best_step", s.best_step}};
}

TrainState from_json(const json& j) {
  TrainState s;
  s.step = j.at("step");
  s.data = {j.at("data_epoch"), j.at("data_batch")};
  s.eps.eps = j.at("eps");
  if (j.contains("eps_baseline") && j.at("eps_baseline").is_number()) s.eps.baseline = j.at("eps_baseline");
  if (j.contains("image_size")) s.image_size = j.at("image_size").get<std::vector<int64_t>>();
  s.best_step = j.at("best_step");
  s.best_val = s.best_step >= 0 ? j.at("best_val").get<double>() : INFINITY;
  return s;
}

}  // namespace

void write_checkpoint_content(const fs::path& dir, const Config& config, const TrainState& state) {
  const std::string yaml = to_yaml(config);
  std::ofstream(dir / "config.yaml") << yaml;
  std::ofstream(dir / "state.json") << json{{"train_state", to_json(state)}, {"config_sha256", checkpoints::sha256(yaml)}}.dump(2) << "\n";
}

CheckpointContent read_checkpoint_content(const fs::path& dir) {
  std::ifstream in(dir / "state.json");
  if (!in) fail_input("checkpoint '{}' has no state.json", dir.string());
  try {
    const json j = json::parse(in);
    return {load_config(dir / "config.yaml"), from_json(j.at("train_state")), j.at("config_sha256").get<std::string>()};
  } catch (const json::exception& e) {
    fail_input("checkpoint '{}': state.json is malformed ({})", dir.string(), e.what());
  }
}

at::Tensor TrainedProtection::perturbation(const at::Tensor& x) const {
  if (generator) return generator->forward(x, eps.budget(x, content.state.step), guide.get());
  return universal->forward(x);
}

TrainedProtection load_trained_protection(const fs::path& dir) {
  CheckpointContent content = read_checkpoint_content(dir);
  const std::string& kind = content.config.trainer.kind;
  TrainedProtection t{content, nullptr, nullptr, nullptr, losses::EpsSchedule(content.config.eps)};
  t.eps.set_control(content.state.eps);
  if (kind == "spam") {
    t.generator = networks::build_generator(content.config.generator);
    checkpoints::load_module(*t.generator, dir / (std::string(kGeneratorModule) + ".pt"), "generator");
    t.generator->eval();
    const auto& guide = content.config.generator.guide;
    if (!guide.empty()) {
      std::vector<networks::VictimConfig> chosen;
      for (const auto& v : content.config.victims) {
        if (std::find(guide.begin(), guide.end(), v.name) != guide.end()) chosen.push_back(v);
      }
      t.guide = networks::make_guide(content.config.generator, networks::VictimEnsemble(chosen, at::kCPU));
    }
  } else if (kind == "uep") {
    t.universal = std::make_shared<UniversalPerturbation>(content.config.trainer.options.as<UepOptions>().size);
    checkpoints::load_module(*t.universal, dir / (std::string(kUniversalModule) + ".pt"), "universal perturbation");
  } else {
    fail_input("a `{}` run has nothing to export{}", kind,
               kind == "classifier" ? " (its weights are in <run>/export/model.pt, for a builtin victim)" : "");
  }
  return t;
}

}  // namespace mf::protection
