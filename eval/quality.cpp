#include "eval/quality.h"

#include "core/error.h"
#include "losses/image_ops.h"

#include <ATen/ATen.h>

#include <filesystem>

namespace mf::eval {

at::Tensor ssim(const at::Tensor& a, const at::Tensor& b) {
  const int64_t fits = std::min<int64_t>(11, std::min(a.size(2), a.size(3)));
  return losses::ssim(a.to(at::kDouble), b.to(at::kDouble), fits % 2 ? fits : fits - 1, 1.5).to(at::kFloat);
}

QualityMeter::QualityMeter(const std::string& lpips, const c10::Device& device) {
  if (lpips.empty()) return;
  if (!std::filesystem::is_regular_file(lpips)) fail_input("lpips: '{}' does not exist", lpips);
  try {
    lpips_ = torch::jit::load(lpips, device);
  } catch (const c10::Error& e) {
    std::string why = e.what_without_backtrace();
    fail_input("lpips: '{}' is not a loadable TorchScript file: {}", lpips, why.substr(0, why.find('\n')));
  }
  lpips_->eval();
}

void QualityMeter::add(const at::Tensor& protected_images, const at::Tensor& original, Tally& tally) {
  const double n = static_cast<double>(original.size(0));
  const at::Tensor delta = (protected_images - original).to(at::kDouble).flatten(1);
  auto sum = [](const at::Tensor& t) { return t.to(at::kDouble).sum().item<double>(); };
  tally.add("ssim", sum(ssim(protected_images, original)), n);
  tally.add("psnr", sum(losses::psnr(protected_images.to(at::kDouble), original.to(at::kDouble)).clamp_max(100)), n);
  tally.add("linf_255", sum(delta.abs().amax(1) * 255), n);
  tally.add("l2", sum(delta.norm(2, 1)), n);
  if (lpips_) {
    const at::Tensor d = lpips_->forward({protected_images, original}).toTensor().flatten();
    if (d.numel() != original.size(0)) fail_input("lpips: expected one distance per image ({}), got {} values", original.size(0), d.numel());
    tally.add("lpips", sum(d), n);
  }
}

}  // namespace mf::eval
