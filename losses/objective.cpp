#include "losses/objective.h"

#include "core/error.h"

#include <ATen/ATen.h>

namespace mf::losses {

Objective::Objective(const std::vector<LossConfig>& configs, const networks::VictimEnsemble& victims) {
  for (const auto& c : configs) terms_.push_back(loss_terms().at(c.name).build.make(c, victims));
}

ObjectiveValue Objective::compute(StepContext& ctx) {
  ObjectiveValue v;
  v.adversarial = at::zeros({}, ctx.x().options());
  v.quality = at::zeros({}, ctx.x().options());
  for (auto& term : terms_) {
    at::Tensor value = term->compute(ctx, v.metrics);
    v.metrics[term->name() + "/loss"] = value.detach();
    (term->adversarial() ? v.adversarial : v.quality) += value * term->weight();
  }
  v.metrics["loss/adversarial"] = v.adversarial.detach();
  v.metrics["loss/quality"] = v.quality.detach();
  v.metrics["loss/total"] = v.total().detach();
  v.seen = ctx.seen();
  v.victim_inputs = ctx.victim_inputs();
  return v;
}

}  // namespace mf::losses
