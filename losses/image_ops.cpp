#include "losses/image_ops.h"

#include "core/precision.h"

#include <ATen/ATen.h>

#include <cmath>

namespace mf::losses {

std::pair<at::Tensor, at::Tensor> spatial_gradients(const at::Tensor& x) {
  return {x.slice(3, 1) - x.slice(3, 0, -1), x.slice(2, 1) - x.slice(2, 0, -1)};
}

at::Tensor rgb_gradient_distance(const at::Tensor& a, const at::Tensor& b, bool cross_channel) {
  auto [ax, ay] = spatial_gradients(a);
  auto [bx, by] = spatial_gradients(b);
  at::Tensor loss = (ax - bx).abs().mean() + (ay - by).abs().mean();
  if (cross_channel) {
    auto differences = [](const at::Tensor& t) { return t - t.roll(1, 1); };  // R-B, G-R, B-G
    loss = loss + (differences(a) - differences(b)).abs().mean();
  }
  return loss;
}

at::Tensor gaussian_kernel(int64_t size, double sigma, const at::TensorOptions& options) {
  at::Tensor t = at::arange(size, options) - static_cast<double>(size - 1) / 2;
  at::Tensor k = at::exp(-(t * t) / (2 * sigma * sigma));
  return k / k.sum();
}

at::Tensor gaussian_blur(const at::Tensor& x, int64_t size, double sigma) {
  const int64_t c = x.size(1), pad = size / 2;
  at::Tensor k = gaussian_kernel(size, sigma, x.options());
  // Reflection needs the border to be wider than the padding; replicate otherwise.
  const bool reflect = x.size(2) > pad && x.size(3) > pad;
  at::Tensor padded = at::pad(x, {pad, pad, pad, pad}, reflect ? "reflect" : "replicate");
  at::Tensor h = at::conv2d(padded, k.view({1, 1, 1, size}).repeat({c, 1, 1, 1}), {}, at::IntArrayRef{1}, at::IntArrayRef{0}, at::IntArrayRef{1}, c);
  return at::conv2d(h, k.view({1, 1, size, 1}).repeat({c, 1, 1, 1}), {}, at::IntArrayRef{1}, at::IntArrayRef{0}, at::IntArrayRef{1}, c);
}

at::Tensor ssim(const at::Tensor& input_a, const at::Tensor& input_b, int64_t window, double sigma) {
  Fp32Region fp32;  // E[x^2] - mu^2 cancels to nothing in bf16
  const auto dtype = input_a.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor a = input_a.to(dtype), b = input_b.to(dtype);
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  const int64_t fits = std::min(a.size(2), a.size(3));
  if (window > fits) window = fits % 2 == 1 ? fits : fits - 1;
  const int64_t c = a.size(1);
  at::Tensor k = gaussian_kernel(window, sigma, a.options());
  at::Tensor k2 = (k.unsqueeze(1) * k.unsqueeze(0)).view({1, 1, window, window}).repeat({c, 1, 1, 1});
  // "valid" filtering, as in the reference implementation (no padding at the borders).
  auto filter = [&](const at::Tensor& t) { return at::conv2d(t, k2, {}, at::IntArrayRef{1}, at::IntArrayRef{0}, at::IntArrayRef{1}, c); };
  const at::Tensor mu_a = filter(a), mu_b = filter(b);
  const at::Tensor var_a = filter(a * a) - mu_a * mu_a;
  const at::Tensor var_b = filter(b * b) - mu_b * mu_b;
  const at::Tensor cov = filter(a * b) - mu_a * mu_b;
  at::Tensor map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2));
  return map.flatten(1).mean(1);
}

at::Tensor box_iou(const at::Tensor& boxes, const at::Tensor& face) {
  at::Tensor f = face.unsqueeze(1);
  at::Tensor w = (at::minimum(boxes.select(2, 2), f.select(2, 2)) - at::maximum(boxes.select(2, 0), f.select(2, 0))).clamp_min(0);
  at::Tensor h = (at::minimum(boxes.select(2, 3), f.select(2, 3)) - at::maximum(boxes.select(2, 1), f.select(2, 1))).clamp_min(0);
  at::Tensor inter = w * h;
  auto area = [](const at::Tensor& b) { return (b.select(2, 2) - b.select(2, 0)).clamp_min(0) * (b.select(2, 3) - b.select(2, 1)).clamp_min(0); };
  return inter / (area(boxes) + area(f) - inter).clamp_min(1e-6);
}

at::Tensor psnr(const at::Tensor& a, const at::Tensor& b) {
  at::Tensor mse = (a - b).square().flatten(1).mean(1).clamp_min(1e-10);
  return -10.0 * at::log10(mse);
}

}  // namespace mf::losses
