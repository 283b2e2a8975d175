// Pixel-cell operations of the pixelization baselines, exposed for their tests.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace mf::protect {

// Means of the b x b cells of x [N, C, H, W] ([N, C, ceil(H/b), ceil(W/b)]; the cells at
// the right and bottom edges may be partial).
at::Tensor cell_means(const at::Tensor& x, int64_t block);
// The number of pixels of each cell of an H x W image [ceil(H/b), ceil(W/b)].
at::Tensor cell_pixels(int64_t height, int64_t width, int64_t block, const at::TensorOptions& options);
// Cells back to an H x W image, each cell's value over its pixels.
at::Tensor expand_cells(const at::Tensor& cells, int64_t block, int64_t height, int64_t width);
// Standard Laplace samples (scale 1) from a seeded generator.
at::Tensor laplace_noise(at::IntArrayRef shape, uint64_t seed, const at::TensorOptions& options);
// DP-Pix's cells: cell means plus Laplace noise of scale m / (n epsilon) (n: the cell's
// pixels), clamped to [0, 1]; one seed per image.
at::Tensor dp_pixelate(const at::Tensor& x, int64_t block, double m, double epsilon, const std::vector<uint64_t>& seeds);

}  // namespace mf::protect
