// The scaled-epsilon family: the perturbation budget eps follows a schedule (constant,
// linear or cosine ramp), or adapts to hold the adversarial-to-quality loss ratio at a
// target (SPAM's "ScaleEp 1:1 / 2:1"), and may be scaled per pixel by local texture, where
// the eye notices changes less.
#pragma once

#include "core/config/config.h"

#include <ATen/core/Tensor.h>

#include <limits>

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
  double full_std = 0;
  template <class V>
  void visit(V& v) {
    v("max_factor", max_factor, "cap on the local factor: eps * max_factor bounds every pixel", config::positive());
    v("mean", mean,
      "the factor's mean over each image: 1 spends eps on average (mean-preserving); below 1 with max_factor 1 keeps eps "
      "the L-inf bound and spends less where the image is flat, which the eye (and SSIM) notices most",
      config::positive());
    v("window", window, "side of the window in which texture (local standard deviation) is measured", config::in_range(3, 63));
    v("full_std", full_std,
      "the local standard deviation (0-1 luminance) that earns the full factor 1 at least: the factor never exceeds "
      "std / full_std, so flat images (skies, skin, large photos, whose 7-pixel windows are smooth) spend less than `mean` "
      "where the eye would see it; 0: every image spends `mean`",
      config::in_range(0, 1));
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

// The ratio controller's state, which checkpoints save: its eps, and the adversarial loss
// at its first step (NaN until then), from which the attack's progress is measured.
struct EpsControl {
  double eps = 0;
  double baseline = std::numeric_limits<double>::quiet_NaN();
};

// eps over a run, with the ratio controller's state.
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
  // Ratio control: after a step, move eps towards holding progress / quality at the target,
  // where progress is how far the adversarial loss has fallen since the first step. Every
  // term is minimised, so progress grows with the attack's strength whatever the term's
  // sign: an attack that makes none gets more budget.
  void observe(double adversarial, double quality);
  // Whether observe() does anything (schedule: ratio).
  bool adapts() const { return config_.schedule == "ratio"; }

  const EpsControl& control() const { return control_; }
  void set_control(const EpsControl& control) { control_ = control; }

 private:
  EpsConfig config_;
  EpsControl control_;
};

}  // namespace mf::losses
