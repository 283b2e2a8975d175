// The JPEG approximation against real JPEG (OpenCV's libjpeg) on real photographs.
#include "data/image_io.h"
#include "losses/image_ops.h"
#include "losses/jpeg.h"
#include "tests/support/files.h"
#include "tests/support/images.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
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
      auto approx = jpeg_approx(photo.unsqueeze(0), quality).squeeze(0);
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

TEST(JpegApproximation, LowerQualityDistortsMore) {
  auto x = photos()[0].unsqueeze(0);
  EXPECT_LT(psnr(jpeg_approx(x, 20), x).item<double>(), psnr(jpeg_approx(x, 90), x).item<double>());
}

TEST(JpegApproximation, QuantTablesFollowIjgScaling) {
  auto t50 = jpeg_quant_table(50, false, torch::kDouble);
  EXPECT_EQ(t50[0].item<double>(), 16);  // quality 50 is the standard table
  EXPECT_EQ(jpeg_quant_table(100, false, torch::kDouble).max().item<double>(), 1);
  EXPECT_EQ(jpeg_quant_table(10, true, torch::kDouble)[63].item<double>(), 255);
}

}  // namespace
}  // namespace mf::losses
