#include "protection/pgd.h"

#include "data/random.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

namespace mf::protection {
namespace {

at::Tensor per_image_norm(const at::Tensor& t, double p) { return t.flatten(1).norm(p, 1).clamp_min(1e-12).view({-1, 1, 1, 1}); }

}  // namespace

at::Tensor pgd_protect(Protection& protection, const data::Batch& batch, double eps, const PgdOptions& o, uint64_t seed, losses::StepMetrics* metrics) {
  const at::Tensor& x = batch.images;
  const bool l2 = o.norm == "l2";
  const double radius = l2 ? eps * std::sqrt(static_cast<double>(x[0].numel())) : eps;
  const double step = l2 ? o.step_size * std::sqrt(static_cast<double>(x[0].numel())) : o.step_size;
  // A small random start inside the ball (terms like embedding_dodge have no gradient at 0).
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor delta = ((at::rand(x.sizes(), gen, x.options().device(at::kCPU)) - 0.5) * (0.02 * eps)).to(x.device());
  at::Tensor momentum = at::zeros_like(x);
  for (int64_t i = 0; i < o.iterations; ++i) {
    delta.requires_grad_(true);
    auto value = protection.evaluate(batch, delta, data::mix(seed, static_cast<uint64_t>(i)), true);
    const auto roots = protection.backward_roots(value, 1);
    at::Tensor grad = torch::autograd::grad(roots.outputs, {delta}, roots.gradients)[0];
    if (metrics && i + 1 == o.iterations) *metrics = value.metrics;
    at::NoGradGuard no_grad;
    momentum = o.momentum * momentum + grad / per_image_norm(grad, 1);
    delta = delta.detach() - (l2 ? step * momentum / per_image_norm(momentum, 2) : step * momentum.sign());
    delta = l2 ? delta * (radius / per_image_norm(delta, 2)).clamp_max(1) : delta.clamp(-radius, radius);
    delta = (x + delta).clamp(0, 1) - x;  // stay a valid image
  }
  return delta.detach();
}

}  // namespace mf::protection
