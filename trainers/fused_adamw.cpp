#include "trainers/fused_adamw.h"

#include "core/error.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

namespace mf::trainers {

at::Tensor FusedAdamW::step(LossClosure closure) {
  if (closure) fail_runtime("FusedAdamW::step takes no closure");
  at::NoGradGuard no_grad;
  for (auto& group : param_groups_) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
    std::vector<at::Tensor> params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& slot = state_[p.unsafeGetTensorImpl()];
      if (!slot) {
        auto s = std::make_unique<torch::optim::AdamWParamState>();
        s->exp_avg(at::zeros_like(p, at::MemoryFormat::Preserve));
        s->exp_avg_sq(at::zeros_like(p, at::MemoryFormat::Preserve));
        if (o.amsgrad()) s->max_exp_avg_sq(at::zeros_like(p, at::MemoryFormat::Preserve));
        slot = std::move(s);
      }
      auto& s = static_cast<torch::optim::AdamWParamState&>(*slot);
      s.step(s.step() + 1);
      params.push_back(p);
      // The kernel walks the tensors' memory in step, so the gradient must have the
      // parameter's layout (one set by hand, as pcgrad does, may be contiguous where a
      // channels-last parameter is not).
      const at::Tensor& g = p.grad();
      grads.push_back(g.strides() == p.strides() ? g : at::empty_like(p).copy_(g));
      exp_avgs.push_back(s.exp_avg());
      exp_avg_sqs.push_back(s.exp_avg_sq());
      if (o.amsgrad()) max_exp_avg_sqs.push_back(s.max_exp_avg_sq());
      // The kernel reads the step count (for the bias corrections) from a tensor beside the
      // parameter; the count itself stays in the state, where checkpoints keep it.
      steps.push_back(at::full({}, static_cast<double>(s.step()), p.options().dtype(at::kFloat)));
    }
    if (params.empty()) continue;
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, o.lr(), std::get<0>(o.betas()), std::get<1>(o.betas()),
                      o.weight_decay(), o.eps(), o.amsgrad(), /*maximize=*/false);
  }
  return {};
}

}  // namespace mf::trainers
