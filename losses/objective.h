// Objective: the configured loss terms and their weighted sum, split into the adversarial
// and the quality groups (for ratio control and for PCGrad).
#pragma once

#include "losses/term.h"

#include <memory>
#include <vector>

namespace mf::losses {

struct ObjectiveValue {
  at::Tensor adversarial;  // weighted sum of the adversarial terms (0 when none)
  at::Tensor quality;      // weighted sum of the quality terms (0 when none)
  at::Tensor total() const { return adversarial + quality; }
  StepMetrics metrics;  // every term's value and metrics, and loss/adversarial, loss/quality, loss/total
  // With separated victims (StepContext::separate_victims): what they saw, and each one's
  // copy of it, which the adversarial terms' graph starts from.
  at::Tensor seen;
  std::vector<at::Tensor> victim_inputs;
};

class Objective {
 public:
  Objective(const std::vector<LossConfig>& configs, const networks::VictimEnsemble& victims);
  ObjectiveValue compute(StepContext& ctx);
  const std::vector<std::shared_ptr<LossTerm>>& terms() const { return terms_; }

 private:
  std::vector<std::shared_ptr<LossTerm>> terms_;
};

}  // namespace mf::losses
