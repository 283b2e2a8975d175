// What the protection trainers (spam, uep, pgd) share: the frozen victims, the objective,
// the eps budget and the robustness transforms, with one way to evaluate a perturbation,
// combine its gradients and validate it.
#pragma once

#include "data/loader.h"
#include "losses/eps.h"
#include "losses/objective.h"
#include "losses/robustness.h"
#include "networks/ensemble.h"
#include "protection/config.h"

#include <functional>

namespace mf::protection {

using losses::Metrics;

class Protection {
 public:
  Protection(const Config& config, const c10::Device& device);

  // The objective for `delta` on a batch; the victims see the protected images through the
  // robustness transforms when `robust` (randomness from `seed`). With
  // trainer.balance_victims each victim sees its own copy of them (StepContext).
  losses::ObjectiveValue evaluate(const data::Batch& batch, const at::Tensor& delta, uint64_t seed, bool robust);

  // Where backpropagating value.total() / scale starts: the total itself, or, with separated
  // victims, the victims' balanced gradient at what they saw, and the quality terms. Pass
  // them to torch::autograd::backward or grad.
  struct Roots {
    std::vector<at::Tensor> outputs, gradients;
  };
  Roots backward_roots(const losses::ObjectiveValue& value, double scale) const;

  // Backpropagates a value into `parameters` (from backward_roots): the plain sum, or PCGrad (each group's gradient
  // loses its component along the other's when they conflict). `scale` divides the result
  // (gradient accumulation). Adds "grad/conflict" (1 when the groups conflicted) with pcgrad.
  // `average` (data-parallel runs) replaces gradients by their mean over the ranks: pcgrad
  // projects the global adversarial and quality gradients, as one process with the global
  // batch would.
  void backward(const losses::ObjectiveValue& value, const std::vector<at::Tensor>& parameters, double scale, losses::StepMetrics& metrics,
                const std::function<void(std::vector<at::Tensor>&)>& average = {});

  // Validation over up to `batches` batches of `dataset`: the objective's metrics on the
  // protected images, SSIM and PSNR against the originals, and for classifier victims the
  // accuracy on clean and protected images (against labels, or the clean prediction).
  Metrics validate(const std::shared_ptr<const data::Dataset>& dataset, int64_t batches, uint64_t seed,
                   const std::function<at::Tensor(const data::Batch&)>& perturb);

  networks::VictimEnsemble victims;
  losses::Objective objective;
  losses::EpsSchedule eps;
  losses::Robustness robustness;

 private:
  const Config& config_;
  c10::Device device_;
};

// The summary rows of a protection run from its final validation metrics ("val/..."): each
// classifier's clean and protected accuracy, the other victims' rates, SSIM and PSNR.
std::vector<std::pair<std::string, std::string>> summary_rows(const Metrics& validation);

}  // namespace mf::protection
