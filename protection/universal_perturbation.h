// UniversalPerturbation: one perturbation tensor [1, 3, H, W] shared by every image,
// resized (bilinear) to each image's size.
#pragma once

#include <torch/nn/module.h>

#include <vector>

namespace mf::protection {

class UniversalPerturbation : public torch::nn::Module {
 public:
  explicit UniversalPerturbation(const std::vector<int64_t>& size);
  // The perturbation for images x [N, 3, H, W].
  at::Tensor forward(const at::Tensor& x) const;
  // Clamps the tensor into [-eps, eps].
  void project(double eps);
  const at::Tensor& delta() const { return delta_; }

 private:
  at::Tensor delta_;
};

}  // namespace mf::protection
