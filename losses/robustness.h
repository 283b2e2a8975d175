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

// Where transforms moved the image content, the same for every image of a batch: a point
// (x, y) of the input is at (x + dx, y + dy) in the output, where only the window
// [left, top, right, bottom) shows the input (crop-and-pad fills the rest).
struct Placement {
  double dx = 0, dy = 0;
  double left = -1e30, top = -1e30, right = 1e30, bottom = 1e30;

  // This placement followed by `next`.
  Placement then(const Placement& next) const;
  // Boxes [N, 4] (x0, y0, x1, y1) in input pixels -> output pixels, clipped to the window
  // (a box cut off entirely has no area). `scale` converts pixels to the boxes' units.
  at::Tensor move(const at::Tensor& boxes, double scale_x = 1, double scale_y = 1) const;
};

// A transformed batch and where its content went.
struct Transformed {
  at::Tensor images;
  Placement placement;
};

struct TransformConfig;
// Applies one transform to a batch, its random parameters drawn from `seed`.
using TransformFn = std::function<Transformed(const at::Tensor& x, const TransformConfig& config, uint64_t seed)>;

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
  Transformed apply(const at::Tensor& x, uint64_t seed, std::map<std::string, double>* metrics = nullptr) const;
  bool empty() const { return transforms_.empty(); }

 private:
  std::vector<TransformConfig> transforms_;
};

}  // namespace mf::losses
