// The scaled-epsilon family: the perturbation budget eps follows a schedule (constant,
// linear or cosine ramp), or adapts to hold the adversarial-to-quality loss ratio at a
// target (SPAM's "ScaleEp 1:1 / 2:1"), and may be scaled per pixel by local texture, where
// the eye notices changes less.
#pragma once

#include "core/config/config.h"

#include <ATen/core/Tensor.h>

namespace mf::losses {

struct EpsConfig;
// The registered schedules; the builder gives eps at a step (ratio control aside).
using EpsScheduleFn = std::function<double(const EpsConfig& config, int64_t step)>;
const Registry<EpsScheduleFn>& eps_schedules();
// The registered ways of spreading eps over an image: x, scalar eps -> budget tensor.
using EpsScalingFn = std::function<at::Tensor(const at::Tensor& x, double eps, const EpsConfig& config)>;
const Registry<EpsScalingFn>& eps_scalings();

struct TextureOptions {
  double max_factor = 2.0;
  double mean = 1.0;
  int64_t window = 7;
  template <class V>
  void visit(V& v) {
    v("max_factor", max_factor, "cap on the local factor: eps * max_factor bounds every pixel", config::positive());
    v("mean", mean,
      "the factor's mean over each image: 1 spends eps on average (mean-preserving); below 1 with max_factor 1 keeps eps "
      "the L-inf bound and spends less where the image is flat, which the eye (and SSIM) notices most",
      config::positive());
    v("window", window, "side of the window in which texture (local standard deviation) is measured", config::in_range(3, 63));
  }
  void validate() const {
    if (mean > max_factor) throw config::FieldError("mean", "the mean factor cannot exceed max_factor, the cap of every pixel's factor");
  }
};

struct EpsConfig {
  std::string schedule = "constant";
  config::Options options;
  std::string scaling = "none";
  config::Options scaling_options;

  template <class V>
  void visit(V& v) {
    v.kind("schedule", schedule, options, eps_schedules(), "how the budget evolves over training");
    v.kind("scaling", scaling, scaling_options, eps_scalings(), "how the budget is spread over an image");
  }
};

// eps over a run. Holds the ratio controller's current value, which checkpoints save.
class EpsSchedule {
 public:
  explicit EpsSchedule(EpsConfig config);

  // The scalar budget at `step`, which texture scaling spreads over each image.
  double value(int64_t step) const;
  // The bound of the perturbation's largest pixel at `step`: value(step), times max_factor
  // with texture scaling.
  double bound(int64_t step) const;
  // The budget for the images x: a scalar tensor, or with texture scaling a per-pixel map
  // [N, 1, H, W] (mean over each image = value(step) * mean).
  at::Tensor budget(const at::Tensor& x, int64_t step) const;
  // Ratio control: after a step, move eps towards holding |adversarial| / quality at the target.
  void observe(double adversarial, double quality);

  double controlled() const { return controlled_; }
  void set_controlled(double eps) { controlled_ = eps; }

 private:
  EpsConfig config_;
  double controlled_ = 0;
};

}  // namespace mf::losses
