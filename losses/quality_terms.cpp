// Quality terms: keep the protected image the same to a person. Norms of the
// perturbation, its structure (RGB gradients, SSIM), its magnitude and smoothness.
#include "losses/family.h"
#include "losses/image_ops.h"

#include <ATen/ATen.h>

namespace mf::losses {
namespace {

struct SoftMaxOptions {
  double temperature = 100;
  template <class V>
  void visit(V& v) {
    v("temperature", temperature, "sharpness of the smooth maximum (log-mean-exp of temperature * |delta|, per image)", config::positive());
  }
};

struct RgbGradientOptions {
  bool cross_channel = true;
  template <class V>
  void visit(V& v) {
    v("cross_channel", cross_channel, "also compare the differences between channels (R-G, G-B, B-R), which carry hue");
  }
};

struct SsimOptions {
  int64_t window = 11;
  double sigma = 1.5;
  template <class V>
  void visit(V& v) {
    v("window", window, "Gaussian window size in pixels", config::in_range(3, 31));
    v("sigma", sigma, "Gaussian window standard deviation", config::positive());
  }
};

// A quality term whose value is a function of the step; `metric` names what it reports.
class QualityTerm : public LossTerm {
 public:
  using Fn = std::function<at::Tensor(StepContext&)>;
  QualityTerm(const LossConfig& c, Fn fn) : LossTerm(c), fn_(std::move(fn)) {}
  bool adversarial() const override { return false; }
  at::Tensor compute(StepContext& ctx, StepMetrics& metrics) override {
    at::Tensor value = fn_(ctx);
    metrics[name() + "/value"] = value.detach();
    return value;
  }

 private:
  Fn fn_;
};

template <class Options = config::NoOptions>
TermEntry quality(const char* name, const char* doc, std::function<at::Tensor(StepContext&, const Options&)> fn) {
  return {name, doc, options_of<Options>(),
          {{}, [fn](const LossConfig& c, const networks::VictimEnsemble&) {
             Options o = c.options.as<Options>();
             return std::make_shared<QualityTerm>(c, [fn, o](StepContext& ctx) { return fn(ctx, o); });
           }}};
}

}  // namespace

std::vector<TermEntry> quality_terms() {
  using NoOptions = config::NoOptions;
  return {
      quality<NoOptions>("l1", "Quality: mean absolute perturbation.", [](StepContext& ctx, const NoOptions&) { return ctx.delta().abs().mean(); }),
      quality<NoOptions>("l2", "Quality: mean squared perturbation.", [](StepContext& ctx, const NoOptions&) { return ctx.delta().square().mean(); }),
      quality<SoftMaxOptions>("linf_soft", "Quality: a smooth maximum of |delta| per image (log-mean-exp), averaged over images.",
                              [](StepContext& ctx, const SoftMaxOptions& o) {
                                at::Tensor t = ctx.delta().abs().flatten(1) * o.temperature;
                                return ((at::logsumexp(t, 1) - std::log(static_cast<double>(t.size(1)))) / o.temperature).mean();
                              }),
      quality<RgbGradientOptions>("rgb_gradient",
                                  "Quality: spatial gradients of each colour channel (and of cross-channel differences), protected vs original.",
                                  [](StepContext& ctx, const RgbGradientOptions& o) { return rgb_gradient_distance(ctx.x_adv(), ctx.x(), o.cross_channel); }),
      quality<NoOptions>("magnitude", "Quality: mean per-pixel length of the perturbation's RGB vector.",
                         [](StepContext& ctx, const NoOptions&) { return (ctx.delta().square().sum(1) + 1e-12).sqrt().mean(); }),
      quality<SsimOptions>("ssim", "Quality: 1 - SSIM(protected, original) with a Gaussian window.",
                           [](StepContext& ctx, const SsimOptions& o) { return 1 - ssim(ctx.x_adv(), ctx.x(), o.window, o.sigma).mean(); }),
      quality<NoOptions>("tv", "Quality: total variation of the perturbation.", [](StepContext& ctx, const NoOptions&) {
        auto [dx, dy] = spatial_gradients(ctx.delta());
        return dx.abs().mean() + dy.abs().mean();
      }),
  };
}

}  // namespace mf::losses
