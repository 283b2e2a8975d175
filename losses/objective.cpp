#include "losses/objective.h"

#include "core/error.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <map>

namespace mf::losses {

Objective::Objective(const std::vector<LossConfig>& configs, const networks::VictimEnsemble& victims) {
  // A term listed again (detection_suppress on the crops and on the detector's own boxes)
  // reports as "<name>.2", "<name>.3", ..., so that its metrics do not overwrite the first's.
  std::map<std::string, int> listed;
  for (const auto& c : configs) {
    LossConfig named = c;
    if (const int n = ++listed[c.name]; n > 1) named.name = fmt::format("{}.{}", c.name, n);
    terms_.push_back(loss_terms().at(c.name).build.make(named, victims));
  }
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
