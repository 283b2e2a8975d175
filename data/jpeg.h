// A differentiable approximation of JPEG compression, so that protections learn to survive
// it (losses/robustness.cpp) and guides see through it (networks/guide.cpp): RGB -> YCbCr, 4:2:0 chroma subsampling, 8x8 block DCT, quantisation with the
// standard tables scaled by quality (IJG), rounding, and back. Rounding passes gradients
// straight through (its forward value is exact).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace mf::data {

// x: [N, 3, H, W] in [0, 1], any size. quality: 1-100. `round` false keeps the coefficients
// unrounded (a smooth function, for gradient checks). Computed in fp32 (or double) even
// under autocast.
at::Tensor jpeg_approx(const at::Tensor& x, double quality, bool round = true);

// TorchScript source of `def jpeg_approx(self, x)` (and its helper jpeg_approx_plane) that
// computes jpeg_approx(x, quality), for a module that carries it (export/).
std::string jpeg_approx_script(double quality);

// The IJG quantisation table (64 values, row-major) for `quality`, luma or chroma.
at::Tensor jpeg_quant_table(double quality, bool chroma, const at::TensorOptions& options);

}  // namespace mf::data
