// Baselines from the image-privacy literature, against which learned protections are
// measured: none, uniform noise, Gaussian blur, pixelization, DP-Pix and DP-Blur.
#include "protect/baselines.h"

#include "losses/image_ops.h"
#include "protect/methods.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace mf::protect {

at::Tensor cell_means(const at::Tensor& x, int64_t block) {
  return at::avg_pool2d(x, {block, block}, {block, block}, {0, 0}, /*ceil_mode=*/true, /*count_include_pad=*/false);
}

at::Tensor cell_pixels(int64_t height, int64_t width, int64_t block, const at::TensorOptions& options) {
  auto sides = [&](int64_t n) {
    at::Tensor starts = at::arange(0, n, block, options.dtype(at::kDouble));
    return (n - starts).clamp_max(static_cast<double>(block));
  };
  return (sides(height).unsqueeze(1) * sides(width).unsqueeze(0)).to(options.dtype());
}

at::Tensor expand_cells(const at::Tensor& cells, int64_t block, int64_t height, int64_t width) {
  return cells.repeat_interleave(block, 2).repeat_interleave(block, 3).slice(2, 0, height).slice(3, 0, width);
}

at::Tensor laplace_noise(at::IntArrayRef shape, uint64_t seed, const at::TensorOptions& options) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor u = at::rand(shape, gen, at::TensorOptions().dtype(at::kDouble)) - 0.5;
  // Inverse CDF of the standard Laplace distribution; u = -0.5 has probability zero.
  return (-u.sign() * at::log1p(-2 * u.abs()).clamp_min(-700)).to(options);
}

at::Tensor dp_pixelate(const at::Tensor& x, int64_t block, double m, double epsilon, const std::vector<uint64_t>& seeds) {
  at::Tensor cells = cell_means(x, block);
  // In [0, 1] pixel units the scale 255 m / (n epsilon) is m / (n epsilon), n the pixels of
  // the cell (b^2, fewer in the partial cells at the right and bottom edges).
  at::Tensor scale = m / (cell_pixels(x.size(2), x.size(3), block, x.options()) * epsilon);
  std::vector<at::Tensor> noise;
  for (size_t i = 0; i < seeds.size(); ++i) noise.push_back(laplace_noise(cells[0].sizes(), seeds[i], x.options()));
  return (cells + at::stack(noise) * scale).clamp(0, 1);
}

namespace {

std::vector<uint64_t> seeds_of(uint64_t seed, const std::vector<std::string>& ids) {
  std::vector<uint64_t> s;
  for (const auto& id : ids) s.push_back(image_seed(seed, id));
  return s;
}

class NoneMethod final : public Method {
 public:
  at::Tensor protect(const at::Tensor& x, const std::vector<std::string>&) override { return x; }
  std::string describe() const override { return "no protection"; }
};

class NoiseMethod final : public Method {
 public:
  NoiseMethod(NoiseOptions o, uint64_t seed) : o_(o), seed_(seed) {}
  at::Tensor protect(const at::Tensor& x, const std::vector<std::string>& ids) override {
    std::vector<at::Tensor> noise;
    for (uint64_t s : seeds_of(seed_, ids)) {
      auto gen = at::make_generator<at::CPUGeneratorImpl>(s);
      noise.push_back(at::rand(x[0].sizes(), gen, at::TensorOptions()));
    }
    return (x + (at::stack(noise).to(x.options()) * 2 - 1) * o_.eps).clamp(0, 1);
  }
  std::string describe() const override { return fmt::format("uniform noise (eps {:.1f}/255)", o_.eps * 255); }

 private:
  NoiseOptions o_;
  uint64_t seed_;
};

class BlurMethod final : public Method {
 public:
  explicit BlurMethod(BlurOptions o) : o_(o) {}
  at::Tensor protect(const at::Tensor& x, const std::vector<std::string>&) override {
    return losses::gaussian_blur(x, 2 * static_cast<int64_t>(std::ceil(3 * o_.sigma)) + 1, o_.sigma);
  }
  std::string describe() const override { return fmt::format("Gaussian blur (sigma {:g})", o_.sigma); }

 private:
  BlurOptions o_;
};

class PixelateMethod final : public Method {
 public:
  explicit PixelateMethod(PixelateOptions o) : o_(o) {}
  at::Tensor protect(const at::Tensor& x, const std::vector<std::string>&) override {
    return expand_cells(cell_means(x, o_.block), o_.block, x.size(2), x.size(3));
  }
  std::string describe() const override { return fmt::format("pixelization (b {})", o_.block); }

 private:
  PixelateOptions o_;
};

class DpPixMethod final : public Method {
 public:
  DpPixMethod(DpPixOptions o, uint64_t seed) : o_(o), seed_(seed) {}
  at::Tensor protect(const at::Tensor& x, const std::vector<std::string>& ids) override {
    return expand_cells(dp_pixelate(x, o_.block, o_.m, o_.epsilon, seeds_of(seed_, ids)), o_.block, x.size(2), x.size(3));
  }
  std::string describe() const override { return fmt::format("DP-Pix (b {}, m {:g}, epsilon {:g})", o_.block, o_.m, o_.epsilon); }

 private:
  DpPixOptions o_;
  uint64_t seed_;
};

class DpBlurMethod final : public Method {
 public:
  DpBlurMethod(DpBlurOptions o, uint64_t seed) : o_(o), seed_(seed) {}
  at::Tensor protect(const at::Tensor& x, const std::vector<std::string>& ids) override {
    at::Tensor full = expand_cells(dp_pixelate(x, o_.block, o_.m, o_.epsilon, seeds_of(seed_, ids)), o_.block, x.size(2), x.size(3));
    const double sigma = sigma_();
    return losses::gaussian_blur(full, 2 * static_cast<int64_t>(std::ceil(3 * sigma)) + 1, sigma).clamp(0, 1);
  }
  std::string describe() const override {
    return fmt::format("DP-Blur (b {}, m {:g}, epsilon {:g}, sigma {:g})", o_.block, o_.m, o_.epsilon, sigma_());
  }

 private:
  double sigma_() const { return o_.sigma > 0 ? o_.sigma : static_cast<double>(o_.block); }
  DpBlurOptions o_;
  uint64_t seed_;
};

}  // namespace

std::unique_ptr<Method> build_none(const MethodConfig&, const MethodContext&) { return std::make_unique<NoneMethod>(); }
std::unique_ptr<Method> build_noise(const MethodConfig& c, const MethodContext& ctx) {
  return std::make_unique<NoiseMethod>(c.options.as<NoiseOptions>(), ctx.seed);
}
std::unique_ptr<Method> build_blur(const MethodConfig& c, const MethodContext&) { return std::make_unique<BlurMethod>(c.options.as<BlurOptions>()); }
std::unique_ptr<Method> build_pixelate(const MethodConfig& c, const MethodContext&) {
  return std::make_unique<PixelateMethod>(c.options.as<PixelateOptions>());
}
std::unique_ptr<Method> build_dp_pix(const MethodConfig& c, const MethodContext& ctx) {
  return std::make_unique<DpPixMethod>(c.options.as<DpPixOptions>(), ctx.seed);
}
std::unique_ptr<Method> build_dp_blur(const MethodConfig& c, const MethodContext& ctx) {
  return std::make_unique<DpBlurMethod>(c.options.as<DpBlurOptions>(), ctx.seed);
}

}  // namespace mf::protect
