// How much a protection changes an image, per image: SSIM, PSNR, the L-inf and L2 norms of
// the change, and LPIPS when a TorchScript LPIPS network is given.
#pragma once

#include "eval/probes.h"

#include <torch/script.h>

#include <optional>
#include <string>

namespace mf::eval {

// SSIM per image in double precision: Gaussian window of 11 taps, sigma 1.5, constants
// K1 0.01, K2 0.03 for data range 1, no sample-covariance correction, borders cropped, the
// mean over channels (Wang et al. 2004; scikit-image's structural_similarity with
// gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1). Images
// smaller than the window use the largest odd window that fits.
at::Tensor ssim(const at::Tensor& a, const at::Tensor& b);

class QualityMeter {
 public:
  // `lpips`: a TorchScript file whose forward(a, b) takes two [N, 3, H, W] batches in [0, 1]
  // and returns one distance per image; empty: no LPIPS.
  QualityMeter(const std::string& lpips, const c10::Device& device);
  // Adds ssim, psnr, linf_255, l2 and lpips of `protected_images` against `original`.
  void add(const at::Tensor& protected_images, const at::Tensor& original, Tally& tally);

 private:
  std::optional<torch::jit::Module> lpips_;
};

}  // namespace mf::eval
