// The JPEG approximation against real JPEG (OpenCV's libjpeg) on real photographs.
#include "core/precision.h"
#include "data/image_io.h"
#include "data/jpeg.h"
#include "losses/image_ops.h"
#include "tests/support/files.h"
#include "tests/support/images.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/script.h>
#include <torch/torch.h>

namespace mf::losses {
namespace {

namespace fs = std::filesystem;

// Real JPEG at `quality` through OpenCV: encode, decode.
torch::Tensor real_jpeg(const torch::Tensor& chw, int quality) {
  cv::Mat bgr;
  cv::cvtColor(data::to_mat(chw), bgr, cv::COLOR_RGB2BGR);
  std::vector<uchar> bytes;
  cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, quality});
  cv::Mat back;
  cv::cvtColor(cv::imdecode(bytes, cv::IMREAD_COLOR), back, cv::COLOR_BGR2RGB);
  return data::to_tensor(back);
}

std::vector<torch::Tensor> photos() {
  std::vector<torch::Tensor> out;
  const fs::path assets = test::assets_dir();
  if (!assets.empty()) {
    for (const char* name : {"astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"}) {
      out.push_back(data::to_tensor(data::read_image(assets / "photos" / name)));
    }
  } else {
    out.push_back(data::to_tensor(test::picture(256, 192, 3)));
  }
  return out;
}

// Stated tolerance (README): the approximation is within 40 dB PSNR of real JPEG (measured
// 44-49 dB on the four photos), and distorts the image as much as real JPEG (within 0.5 dB).
TEST(JpegApproximation, MatchesRealJpegOnRealPhotos) {
  for (const auto& photo : photos()) {
    for (int quality : {50, 75, 90}) {
      auto real = real_jpeg(photo, quality);
      auto approx = data::jpeg_approx(photo.unsqueeze(0), quality).squeeze(0);
      const double agreement = psnr(approx.unsqueeze(0), real.unsqueeze(0)).item<double>();
      const double real_distortion = psnr(real.unsqueeze(0), photo.unsqueeze(0)).item<double>();
      const double approx_distortion = psnr(approx.unsqueeze(0), photo.unsqueeze(0)).item<double>();
      std::printf("quality %d: PSNR(approx, real) %.1f dB; distortion real %.1f dB, approx %.1f dB\n", quality, agreement,
                  real_distortion, approx_distortion);
      EXPECT_GT(agreement, 40.0) << "quality " << quality;
      EXPECT_NEAR(approx_distortion, real_distortion, 0.5) << "quality " << quality;
    }
  }
}

// Under bf16 autocast (trainer.precision bf16, or auto on CUDA) both stay in fp32: bf16's
// 8-bit mantissa would move DCT coefficients of values up to 255 by whole steps, and turn
// SSIM's E[x^2] - mu^2 into noise.
TEST(JpegApproximation, JpegAndSsimKeepFp32UnderBf16Autocast) {
  auto x = data::to_tensor(test::picture(64, 48, 7)).unsqueeze(0);
  auto y = (x + 0.02 * torch::randn_like(x)).clamp(0, 1);
  const auto jpeg32 = data::jpeg_approx(x, 75), ssim32 = ssim(x, y);
  torch::Tensor jpeg16, ssim16;
  {
    Autocast bf16(torch::kCPU, "bf16");
    jpeg16 = data::jpeg_approx(x, 75), ssim16 = ssim(x, y);
    EXPECT_EQ(torch::conv2d(x, torch::ones({1, 3, 3, 3})).scalar_type(), torch::kBFloat16) << "autocast is on around them";
  }
  EXPECT_EQ(jpeg16.scalar_type(), torch::kFloat);
  EXPECT_LT((jpeg16 - jpeg32).abs().max().item<double>(), 1e-6);
  EXPECT_LT((ssim16 - ssim32).abs().max().item<double>(), 1e-6);
}

TEST(JpegApproximation, LowerQualityDistortsMore) {
  auto x = photos()[0].unsqueeze(0);
  EXPECT_LT(psnr(data::jpeg_approx(x, 20), x).item<double>(), psnr(data::jpeg_approx(x, 90), x).item<double>());
}

// The TorchScript an export carries (a guide through JPEG) computes the same values and
// gradients, on sizes that are and are not multiples of its 16 x 16 blocks.
TEST(JpegApproximation, ScriptComputesWhatCppComputes) {
  torch::jit::Module m("Jpeg");
  m.define(data::jpeg_approx_script(70));
  for (auto size : {std::pair{48, 64}, std::pair{37, 53}}) {
    auto x = torch::rand({2, 3, size.first, size.second}, torch::requires_grad());
    auto weights = torch::randn({2, 3, size.first, size.second});
    auto cpp = data::jpeg_approx(x, 70);
    auto script = m.run_method("jpeg_approx", x).toTensor();
    EXPECT_LT((script - cpp).abs().max().item<double>(), 1e-5);
    auto g_cpp = torch::autograd::grad({(cpp * weights).sum()}, {x})[0];
    auto g_script = torch::autograd::grad({(script * weights).sum()}, {x})[0];
    EXPECT_LT((g_script - g_cpp).abs().max().item<double>(), 1e-5);
  }
}

TEST(JpegApproximation, QuantTablesFollowIjgScaling) {
  auto t50 = data::jpeg_quant_table(50, false, torch::kDouble);
  EXPECT_EQ(t50[0].item<double>(), 16);  // quality 50 is the standard table
  EXPECT_EQ(data::jpeg_quant_table(100, false, torch::kDouble).max().item<double>(), 1);
  EXPECT_EQ(data::jpeg_quant_table(10, true, torch::kDouble)[63].item<double>(), 255);
}

}  // namespace
}  // namespace mf::losses
