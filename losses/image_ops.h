// Differentiable image operations shared by the quality terms and the robustness
// transforms. Images are [N, C, H, W].
#pragma once

#include <ATen/core/Tensor.h>

#include <utility>

namespace mf::losses {

// Forward differences along width and height: [N, C, H, W-1] and [N, C, H-1, W].
std::pair<at::Tensor, at::Tensor> spatial_gradients(const at::Tensor& x);

// How far the structure of `a` is from that of `b`: mean absolute difference of their
// spatial gradients per channel and, with `cross_channel`, of their channel differences.
at::Tensor rgb_gradient_distance(const at::Tensor& a, const at::Tensor& b, bool cross_channel);

// A normalised 1-D Gaussian kernel of `size` taps.
at::Tensor gaussian_kernel(int64_t size, double sigma, const at::TensorOptions& options);

// Separable Gaussian blur per channel, borders reflected.
at::Tensor gaussian_blur(const at::Tensor& x, int64_t size, double sigma);

// SSIM per image (mean over channels and pixels) with a Gaussian window, for images in [0, 1].
// Images smaller than the window are measured with the largest odd window that fits.
// Computed in fp32 (or double) even under autocast.
at::Tensor ssim(const at::Tensor& a, const at::Tensor& b, int64_t window = 11, double sigma = 1.5);

// IoU of boxes [N, B, 4] (x0, y0, x1, y1) with one box per image [N, 4]: [N, B].
at::Tensor box_iou(const at::Tensor& boxes, const at::Tensor& face);

// PSNR per image in dB, for images in [0, 1].
at::Tensor psnr(const at::Tensor& a, const at::Tensor& b);

}  // namespace mf::losses
