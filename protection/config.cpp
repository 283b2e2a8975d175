#include "protection/config.h"

#include "core/config/document.h"

#include <set>

namespace mf::protection {

void Config::validate() const {
  std::set<std::string> names;
  for (size_t i = 0; i < victims.size(); ++i) {
    if (!names.insert(victims[i].name).second) {
      throw config::FieldError(fmt::format("victims.{}.name", i), fmt::format("victim name '{}' is used twice", victims[i].name));
    }
  }
  std::vector<std::string> known(names.begin(), names.end());
  auto check_victim = [&](const std::string& key, const std::string& name) {
    if (!names.count(name)) {
      throw config::FieldError(key, fmt::format("no victim is named '{}'; victims: {}{}", name, fmt::join(known, ", "),
                                                config::did_you_mean(name, known)));
    }
  };
  for (size_t i = 0; i < losses.size(); ++i) {
    const auto& kinds = losses::loss_terms().at(losses[i].name).build.kinds;
    auto accepts = [&](const std::string& kind) { return std::find(kinds.begin(), kinds.end(), kind) != kinds.end(); };
    for (size_t j = 0; j < losses[i].victims.size(); ++j) {
      const std::string key = fmt::format("losses.{}.victims.{}", i, j);
      check_victim(key, losses[i].victims[j]);
      if (kinds.empty()) throw config::FieldError(key, fmt::format("{} is a quality term; it takes no victims", losses[i].name));
      for (const auto& v : victims) {
        if (v.name == losses[i].victims[j] && !accepts(v.kind)) {
          throw config::FieldError(key, fmt::format("{} applies to {} victims; '{}' is a {}", losses[i].name, fmt::join(kinds, " or "), v.name, v.kind));
        }
      }
    }
    if (!kinds.empty() && losses[i].victims.empty() && std::none_of(victims.begin(), victims.end(), [&](const auto& v) { return accepts(v.kind); })) {
      throw config::FieldError(fmt::format("losses.{}.name", i),
                               fmt::format("{} needs a victim of kind {}; the config has none", losses[i].name, fmt::join(kinds, " or ")));
    }
    for (const auto& [name, w] : losses[i].victim_weights) check_victim(fmt::format("losses.{}.victim_weights.{}", i, name), name);
  }
  if (generator.guide_steps > 1 && generator.guide.empty()) {
    throw config::FieldError("generator.guide_steps", fmt::format("{} passes need a guide: set generator.guide", generator.guide_steps));
  }
  if (generator.guide_top_k > 1 && generator.guide.empty()) {
    throw config::FieldError("generator.guide_top_k", "the classes a guide moves away from need a guide: set generator.guide");
  }
  if (generator.guide_top_k_weights != "equal" && generator.guide_top_k == 1) {
    throw config::FieldError("generator.guide_top_k_weights", "guide_top_k_weights weighs the guide's top classes: set generator.guide_top_k to 2 or more");
  }
  if (trainer.balance_victims && trainer.combine != "sum") {
    throw config::FieldError("trainer.balance_victims", "balance_victims rescales the victims' gradients before they add up; trainer.combine pcgrad takes them as one: choose one");
  }
  if (generator.guide_jpeg > 0 && generator.guide.empty()) {
    throw config::FieldError("generator.guide_jpeg", "the gradient through JPEG is the guide's: set generator.guide");
  }
  if (generator.guide_jpeg > 0 && generator.guide_jpeg < 1) {
    throw config::FieldError("generator.guide_jpeg", fmt::format("{} is neither 0 (off) nor a JPEG quality, 1 to 100", generator.guide_jpeg));
  }
  // The export carries the guide's networks, so they must be TorchScript files with a plain output.
  for (size_t i = 0; i < generator.guide.size(); ++i) {
    const std::string key = fmt::format("generator.guide.{}", i);
    check_victim(key, generator.guide[i]);
    const auto& v = *std::find_if(victims.begin(), victims.end(), [&](const auto& v) { return v.name == generator.guide[i]; });
    const bool kind_ok = v.kind != "embedder";
    if (!kind_ok || v.source != "torchscript" || !v.source_options.as<networks::TorchscriptSourceOptions>().output.empty()) {
      throw config::FieldError(key, fmt::format("a guide victim is a TorchScript classifier, detector or mllm with a plain output; '{}' is a {} {} victim{}", v.name,
                                                v.source, v.kind, v.source == "torchscript" && kind_ok ? " with an output selection" : ""));
    }
    if (v.kind == "detector" && generator.guide_steps > 1 && generator.guide_crops == 0) {
      throw config::FieldError("generator.guide_steps",
                               fmt::format("a detector guide ('{}') on its own boxes takes one pass: it picks them by thresholds and top-k, so a "
                                           "later pass amplifies last-bit differences and no export can match the trained generator; set "
                                           "guide_steps: 1, or guide_crops",
                                           v.name));
    }
  }
  const auto is_detector = [&](const std::string& name) {
    return std::any_of(victims.begin(), victims.end(), [&](const auto& v) { return v.name == name && v.kind == "detector"; });
  };
  if (generator.guide_crops > 0 && std::none_of(generator.guide.begin(), generator.guide.end(), is_detector)) {
    throw config::FieldError("generator.guide_crops", "the crops are a detector guide's: set generator.guide to a detector victim");
  }
}

Config load_config(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
  Config config = config::load<Config>(file, overrides);
  if (config.run.name.empty()) config.run.name = file.stem().string();
  return config;
}

std::string to_yaml(const Config& config) { return config::to_yaml(config); }

std::string schema_markdown() {
  return config::schema_markdown(Config{},
                                 "# maskforge configuration reference\n\n"
                                 "Every key a config file may hold, with its type, default and allowed values.\n"
                                 "Generated by `maskforge config schema` from the declarations in the code;\n"
                                 "a test fails when this file is out of date. Numbers may be written as fractions\n"
                                 "(`eps: 8/255`). Any key can be overridden on the command line with\n"
                                 "`--set key.path=value` (list elements by index: `--set victims.0.weight=0.5`).\n");
}

}  // namespace mf::protection
