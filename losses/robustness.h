// Robustness (expectation over transformation): before the victims see a protected image,
// it may pass through random JPEG-like compression, resizing, crop-and-pad, blur and
// noise, so that the protection survives what platforms and attackers do to photos.
#pragma once

#include "core/config/config.h"

#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

namespace mf::losses {

struct TransformConfig;
// Applies one transform to a batch, its random parameters drawn from `seed`.
using TransformFn = std::function<at::Tensor(const at::Tensor& x, const TransformConfig& config, uint64_t seed)>;

// The registered transforms (losses/robustness.cpp).
const Registry<TransformFn>& robustness_transforms();

// One element of the `robustness` list.
struct TransformConfig {
  std::string name = "jpeg";
  config::Options options;
  double p = 0.5;

  template <class V>
  void visit(V& v) {
    v.kind("name", name, options, robustness_transforms(), "the transform");
    v("p", p, "probability of applying it at a step", config::fraction());
  }
};

// The configured transforms in order, each applied with its probability. Randomness comes
// from `seed` (derived from the run seed and the step), so resumed runs see the same.
class Robustness {
 public:
  explicit Robustness(std::vector<TransformConfig> transforms) : transforms_(std::move(transforms)) {}
  // x: [N, 3, H, W] in [0, 1]; returns the same size. Adds "robustness/<name>" = 1 when applied.
  at::Tensor apply(const at::Tensor& x, uint64_t seed, std::map<std::string, double>* metrics = nullptr) const;
  bool empty() const { return transforms_.empty(); }

 private:
  std::vector<TransformConfig> transforms_;
};

}  // namespace mf::losses
