#include "losses/eps.h"

#include "losses/image_ops.h"

#include <ATen/ATen.h>

#include <cmath>
#include <numbers>

namespace mf::losses {
namespace {

constexpr double kDefaultEps = 8.0 / 255;

struct ConstantOptions {
  double value = kDefaultEps;
  template <class V>
  void visit(V& v) {
    v("value", value, "eps in [0, 1] pixel units (8/255 is common)", config::in_range(0, 1));
  }
};

struct RampOptions {
  double start = 2.0 / 255;
  double end = kDefaultEps;
  int64_t steps = 1000;
  template <class V>
  void visit(V& v) {
    v("start", start, "eps at step 0", config::in_range(0, 1));
    v("end", end, "eps from `steps` on", config::in_range(0, 1));
    v("steps", steps, "length of the ramp", config::at_least(1));
  }
};

struct RatioOptions {
  double value = kDefaultEps;
  double target = 1.0;
  double rate = 0.05;
  double min = 1.0 / 255;
  double max = 16.0 / 255;
  template <class V>
  void visit(V& v) {
    v("value", value, "eps at the start", config::in_range(0, 1));
    v("target", target, "the progress : quality loss ratio to hold (1 and 2 are SPAM's ScaleEp 1:1 and 2:1)", config::positive());
    v("rate", rate, "largest relative change of eps per step", config::in_range(0, 1));
    v("min", min, "eps never goes below this", config::in_range(0, 1));
    v("max", max, "eps never goes above this", config::in_range(0, 1));
  }
  void validate() const {
    if (min > max) throw config::FieldError("min", "min must not exceed max");
  }
};

double ramp(const EpsConfig& c, int64_t step, bool cosine) {
  const auto& o = c.options.as<RampOptions>();
  const double t = std::clamp(static_cast<double>(step) / static_cast<double>(o.steps), 0.0, 1.0);
  const double f = cosine ? 0.5 - 0.5 * std::cos(std::numbers::pi * t) : t;
  return o.start + (o.end - o.start) * f;
}

// Local standard deviation of luminance, scaled to the configured mean per image (at most
// 1 / full_std) and capped.
at::Tensor texture_budget(const at::Tensor& x, double eps, const EpsConfig& c) {
  const auto& o = c.scaling_options.as<TextureOptions>();
  at::Tensor lum = (0.299 * x.select(1, 0) + 0.587 * x.select(1, 1) + 0.114 * x.select(1, 2)).unsqueeze(1);
  const int64_t k = o.window | 1, pad = k / 2;
  auto local_mean = [&](const at::Tensor& t) {
    const bool reflect = t.size(2) > pad && t.size(3) > pad;
    return at::avg_pool2d(at::pad(t, {pad, pad, pad, pad}, reflect ? "reflect" : "replicate"), k, 1);
  };
  at::Tensor mean = local_mean(lum);
  at::Tensor std = (local_mean(lum * lum) - mean * mean).clamp_min(0).sqrt() + 1e-3;
  // The factor is min(s * std, cap) with the scale s found by bisection so that its mean is
  // exactly `mean` per image, however much the cap cuts off.
  at::Tensor lo = at::zeros({x.size(0), 1, 1, 1}, x.options());
  at::Tensor hi = o.max_factor / std.amin({2, 3}, true);  // there, every pixel is at the cap >= mean
  for (int i = 0; i < 50; ++i) {
    at::Tensor mid = (lo + hi) / 2;
    at::Tensor above = (std * mid).clamp_max(o.max_factor).mean({2, 3}, true) > o.mean;
    hi = at::where(above, mid, hi);
    lo = at::where(above, lo, mid);
  }
  if (o.full_std > 0) hi = hi.clamp_max(1 / o.full_std);
  return ((std * hi).clamp_max(o.max_factor) * eps).detach();
}

}  // namespace

const Registry<EpsScheduleFn>& eps_schedules() {
  static const Registry<EpsScheduleFn> registry("eps schedule", {
      {"constant", "The same eps at every step.", options_of<ConstantOptions>(),
       [](const EpsConfig& c, int64_t) { return c.options.as<ConstantOptions>().value; }},
      {"linear", "A linear ramp from start to end over `steps`.", options_of<RampOptions>(),
       [](const EpsConfig& c, int64_t s) { return ramp(c, s, false); }},
      {"cosine", "A cosine ramp from start to end over `steps`.", options_of<RampOptions>(),
       [](const EpsConfig& c, int64_t s) { return ramp(c, s, true); }},
      {"ratio",
       "Ratio control: eps moves each step to hold the attack's progress (how far the adversarial loss fell since the first step) "
       "/ the quality loss at `target`.",
       options_of<RatioOptions>(), [](const EpsConfig& c, int64_t) { return c.options.as<RatioOptions>().value; }},
  });
  return registry;
}

const Registry<EpsScalingFn>& eps_scalings() {
  static const Registry<EpsScalingFn> registry("eps scaling", {
      {"none", "One eps for every pixel.", options_of<config::NoOptions>(),
       [](const at::Tensor& x, double eps, const EpsConfig&) { return at::scalar_tensor(eps, x.options()); }},
      {"texture", "eps scaled per pixel by local texture (more where the image is busy), to a set mean, capped by max_factor.",
       options_of<TextureOptions>(), texture_budget},
  });
  return registry;
}

EpsSchedule::EpsSchedule(EpsConfig config) : config_(std::move(config)) {
  if (config_.schedule == "ratio") control_.eps = config_.options.as<RatioOptions>().value;
}

double EpsSchedule::value(int64_t step) const {
  if (config_.schedule == "ratio") return control_.eps;
  return eps_schedules().at(config_.schedule).build(config_, step);
}

double EpsSchedule::bound(int64_t step) const {
  return value(step) * (config_.scaling == "texture" ? config_.scaling_options.as<TextureOptions>().max_factor : 1.0);
}

at::Tensor EpsSchedule::budget(const at::Tensor& x, int64_t step) const {
  return eps_scalings().at(config_.scaling).build(x, value(step), config_);
}

void EpsSchedule::observe(double adversarial, double quality) {
  if (config_.schedule != "ratio") return;
  const auto& o = config_.options.as<RatioOptions>();
  if (std::isnan(control_.baseline)) {  // the first step: where the attack starts, no progress yet
    control_.baseline = adversarial;
    return;
  }
  const double progress = control_.baseline - adversarial;
  const double ratio = std::max(progress, 0.0) / std::max(std::abs(quality), 1e-12);
  // Adversarial side too strong for the target: spend less budget; too weak: spend more.
  const double change = std::clamp(std::log(o.target / std::max(ratio, 1e-12)), -1.0, 1.0) * o.rate;
  control_.eps = std::clamp(control_.eps * std::exp(change), o.min, o.max);
}

}  // namespace mf::losses
