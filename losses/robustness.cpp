#include "losses/robustness.h"

#include "data/random.h"
#include "data/jpeg.h"
#include "losses/image_ops.h"

#include <ATen/ATen.h>

namespace mf::losses {
namespace {

void check_range(const std::vector<double>& r, const char* key, double lo, double hi) {
  if (r.size() != 2 || r[0] > r[1] || r[0] < lo || r[1] > hi) {
    throw config::FieldError(key, fmt::format("expected [min, max] with {} <= min <= max <= {}", lo, hi));
  }
}

struct JpegOptions {
  std::vector<double> quality = {50, 95};
  template <class V>
  void visit(V& v) {
    v("quality", quality, "[min, max] JPEG quality, drawn uniformly");
  }
  void validate() const { check_range(quality, "quality", 1, 100); }
};
struct ResizeOptions {
  std::vector<double> scale = {0.5, 1.0};
  template <class V>
  void visit(V& v) {
    v("scale", scale, "[min, max] factor of the resize down; the image is then resized back up");
  }
  void validate() const { check_range(scale, "scale", 0.05, 1); }
};
struct CropOptions {
  std::vector<double> scale = {0.8, 1.0};
  template <class V>
  void visit(V& v) {
    v("scale", scale, "[min, max] side of the kept window relative to the image; the rest is padded at a random place");
  }
  void validate() const { check_range(scale, "scale", 0.1, 1); }
};
struct BlurOptions {
  std::vector<double> sigma = {0.3, 1.5};
  template <class V>
  void visit(V& v) {
    v("sigma", sigma, "[min, max] Gaussian standard deviation in pixels");
  }
  void validate() const { check_range(sigma, "sigma", 0.01, 20); }
};
struct NoiseOptions {
  std::vector<double> std = {0.0, 0.03};
  template <class V>
  void visit(V& v) {
    v("std", std, "[min, max] standard deviation of Gaussian noise in [0, 1] pixel units");
  }
  void validate() const { check_range(std, "std", 0, 1); }
};

double draw(uint64_t seed, const std::vector<double>& range) {
  data::Rng rng(seed);
  return rng.uniform(range[0], range[1]);
}

Transformed jpeg(const at::Tensor& x, const TransformConfig& c, uint64_t seed) {
  return {data::jpeg_approx(x, std::round(draw(seed, c.options.as<JpegOptions>().quality)))};
}

Transformed resize(const at::Tensor& x, const TransformConfig& c, uint64_t seed) {
  const double s = draw(seed, c.options.as<ResizeOptions>().scale);
  const int64_t h = x.size(2), w = x.size(3);
  at::Tensor small = at::upsample_bilinear2d(x, {std::max<int64_t>(1, std::lround(h * s)), std::max<int64_t>(1, std::lround(w * s))}, false);
  return {at::upsample_bilinear2d(small, {h, w}, false)};
}

Transformed crop(const at::Tensor& x, const TransformConfig& c, uint64_t seed) {
  data::Rng rng(seed);
  const auto& range = c.options.as<CropOptions>().scale;
  const double s = rng.uniform(range[0], range[1]);
  const int64_t h = x.size(2), w = x.size(3);
  const int64_t ch = std::max<int64_t>(1, std::lround(h * s)), cw = std::max<int64_t>(1, std::lround(w * s));
  const int64_t y0 = static_cast<int64_t>(rng.below(h - ch + 1)), x0 = static_cast<int64_t>(rng.below(w - cw + 1));
  const int64_t top = static_cast<int64_t>(rng.below(h - ch + 1)), left = static_cast<int64_t>(rng.below(w - cw + 1));
  at::Tensor window = x.slice(2, y0, y0 + ch).slice(3, x0, x0 + cw);
  const auto d = [](int64_t v) { return static_cast<double>(v); };
  return {at::constant_pad_nd(window, {left, w - cw - left, top, h - ch - top}, 0.5),
          {d(left - x0), d(top - y0), d(left), d(top), d(left + cw), d(top + ch)}};
}

Transformed blur(const at::Tensor& x, const TransformConfig& c, uint64_t seed) {
  const double sigma = draw(seed, c.options.as<BlurOptions>().sigma);
  return {gaussian_blur(x, 2 * static_cast<int64_t>(std::ceil(3 * sigma)) + 1, sigma)};
}

Transformed noise(const at::Tensor& x, const TransformConfig& c, uint64_t seed) {
  const double std = draw(seed, c.options.as<NoiseOptions>().std);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(data::mix(seed, 1));
  at::Tensor n = at::randn(x.sizes(), gen, at::TensorOptions().dtype(x.scalar_type())).to(x.device());
  return {(x + n * std).clamp(0, 1)};
}

}  // namespace

const Registry<TransformFn>& robustness_transforms() {
  static const Registry<TransformFn> registry("robustness transform", {
      {"jpeg", "Differentiable JPEG approximation (DCT, quantisation tables by quality, straight-through rounding).", options_of<JpegOptions>(), jpeg},
      {"resize", "Resize down by a random factor, then back up (bilinear).", options_of<ResizeOptions>(), resize},
      {"crop", "Keep a random window and pad it back to full size (grey) at a random place.", options_of<CropOptions>(), crop},
      {"blur", "Gaussian blur with a random sigma.", options_of<BlurOptions>(), blur},
      {"noise", "Additive Gaussian noise with a random standard deviation.", options_of<NoiseOptions>(), noise},
  });
  return registry;
}

Placement Placement::then(const Placement& next) const {
  // The window moves with the content, then only the part inside the next window shows.
  return {dx + next.dx,
          dy + next.dy,
          std::max(left + next.dx, next.left),
          std::max(top + next.dy, next.top),
          std::min(right + next.dx, next.right),
          std::min(bottom + next.dy, next.bottom)};
}

at::Tensor Placement::move(const at::Tensor& boxes, double scale_x, double scale_y) const {
  at::Tensor x = (boxes.select(1, 0) + dx * scale_x).clamp(left * scale_x, right * scale_x);
  at::Tensor y = (boxes.select(1, 1) + dy * scale_y).clamp(top * scale_y, bottom * scale_y);
  at::Tensor x1 = (boxes.select(1, 2) + dx * scale_x).clamp(left * scale_x, right * scale_x);
  at::Tensor y1 = (boxes.select(1, 3) + dy * scale_y).clamp(top * scale_y, bottom * scale_y);
  return at::stack({x, y, x1, y1}, 1);
}

Transformed Robustness::apply(const at::Tensor& x, uint64_t seed, std::map<std::string, double>* metrics) const {
  Transformed out{x};
  for (size_t i = 0; i < transforms_.size(); ++i) {
    const auto& t = transforms_[i];
    data::Rng coin(data::mix(seed, i, 0xc011));
    if (coin.uniform() >= t.p) continue;
    Transformed next = robustness_transforms().at(t.name).build(out.images, t, data::mix(seed, i));
    out = {next.images, out.placement.then(next.placement)};
    if (metrics) (*metrics)["robustness/" + t.name] = 1;
  }
  return out;
}

}  // namespace mf::losses
