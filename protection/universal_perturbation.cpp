#include "protection/universal_perturbation.h"

#include "core/error.h"

#include <ATen/ATen.h>

namespace mf::protection {

UniversalPerturbation::UniversalPerturbation(const std::vector<int64_t>& size) : Module("UniversalPerturbation") {
  if (size.size() != 2 || size[0] < 1 || size[1] < 1) fail_input("trainer.size: expected [height, width], got {} values", size.size());
  // A tiny random start: some terms (cosine to the clean embedding) have no gradient at 0.
  delta_ = register_parameter("delta", (at::rand({1, 3, size[0], size[1]}) - 0.5) * 2e-3);
}

at::Tensor UniversalPerturbation::forward(const at::Tensor& x) const {
  at::Tensor d = delta_;
  if (d.size(2) != x.size(2) || d.size(3) != x.size(3)) d = at::upsample_bilinear2d(d, {x.size(2), x.size(3)}, false);
  return d.expand({x.size(0), -1, -1, -1});
}

void UniversalPerturbation::project(double eps) {
  at::NoGradGuard no_grad;
  delta_.clamp_(-eps, eps);
}

}  // namespace mf::protection
