#include "core/error.h"
#include "losses/term.h"

#include <ATen/ATen.h>

namespace mf::losses {

StepContext::StepContext(const networks::VictimEnsemble& victims, at::Tensor x, at::Tensor delta, Transformed seen, at::Tensor labels,
                         at::Tensor face_boxes, uint64_t seed)
    : victims_(victims), x_(std::move(x)), delta_(std::move(delta)), seen_(std::move(seen.images)), labels_(std::move(labels)),
      face_boxes_(std::move(face_boxes)), placement_(seen.placement), seed_(seed) {
  x_adv_ = (x_ + delta_).clamp(0, 1);
  if (!seen_.defined()) seen_ = x_adv_;
}

at::Tensor StepContext::input(networks::Victim& victim) {
  if (!separate_) return seen_;
  auto it = std::find_if(inputs_.begin(), inputs_.end(), [&](const auto& entry) { return entry.first == &victim; });
  if (it != inputs_.end()) return it->second;
  inputs_.emplace_back(&victim, seen_.detach().requires_grad_(seen_.requires_grad()));
  return inputs_.back().second;
}

std::vector<at::Tensor> StepContext::victim_inputs() const {
  std::vector<at::Tensor> out;
  for (const auto& [victim, input] : inputs_) out.push_back(input);
  return out;
}

const at::Tensor& StepContext::adversarial(networks::Victim& victim) {
  auto it = adversarial_.find(&victim);
  if (it == adversarial_.end()) it = adversarial_.emplace(&victim, victim.forward(input(victim))).first;
  return it->second;
}

const at::Tensor& StepContext::clean(networks::Victim& victim) {
  auto it = clean_.find(&victim);
  if (it == clean_.end()) {
    at::NoGradGuard no_grad;
    it = clean_.emplace(&victim, victim.forward(x_)).first;
  }
  return it->second;
}

std::vector<std::pair<std::shared_ptr<networks::Victim>, double>> select_victims(const LossConfig& config,
                                                                                 const networks::VictimEnsemble& victims,
                                                                                 const std::vector<std::string>& kinds) {
  auto accepts = [&](const networks::Victim& v) { return std::find(kinds.begin(), kinds.end(), v.config().kind) != kinds.end(); };
  auto factor = [&](const std::string& name) {
    auto it = config.victim_weights.find(name);
    return it == config.victim_weights.end() ? 1.0 : it->second;
  };
  std::vector<std::pair<std::shared_ptr<networks::Victim>, double>> out;
  if (config.victims.empty()) {
    for (const auto& v : victims.victims()) {
      if (accepts(*v)) out.emplace_back(v, v->weight() * factor(v->name()));
    }
    if (out.empty()) fail_input("loss '{}' needs a victim of kind {}; the config has none", config.name, fmt::join(kinds, " or "));
  }
  for (const auto& name : config.victims) {
    const auto& v = victims.at(name);
    if (!accepts(*v)) fail_input("loss '{}' applies to {} victims; '{}' is a {}", config.name, fmt::join(kinds, " or "), name, v->config().kind);
    out.emplace_back(v, v->weight() * factor(name));
  }
  return out;
}

VictimTerm::VictimTerm(const LossConfig& config, const networks::VictimEnsemble& victims, std::vector<std::string> kinds)
    : LossTerm(config), targets_(select_victims(config, victims, kinds)) {}

at::Tensor VictimTerm::compute(StepContext& ctx, StepMetrics& metrics) {
  at::Tensor total;
  for (auto& [victim, weight] : targets_) {
    at::Tensor value = compute_one(ctx, *victim, metrics, name() + "/" + victim->name() + "/") * weight;
    total = total.defined() ? total + value : value;
  }
  return total;
}

}  // namespace mf::losses
