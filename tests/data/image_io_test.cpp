// Decoding and encoding real files.
#include "data/image_io.h"
#include "tests/support/files.h"
#include "tests/support/images.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace mf::data {
namespace {

using test::TempDir;

TEST(ImageIo, PngRoundTripIsExact) {
  TempDir dir;
  auto img = to_tensor(test::picture(37, 23, 1));
  write_image(dir / "a.png", img);
  auto back = to_tensor(read_image(dir / "a.png"));
  EXPECT_TRUE(at::equal(img, back));
}

TEST(ImageIo, EveryFormatDecodesToRgb) {
  TempDir dir;
  cv::Mat rgb = test::picture(40, 30, 2);
  for (const char* ext : {".jpg", ".png", ".bmp", ".webp"}) {
    test::write_picture(dir / (std::string("x") + ext), rgb);
    cv::Mat back = read_image(dir / (std::string("x") + ext));
    ASSERT_EQ(back.size(), rgb.size()) << ext;
    EXPECT_LT(cv::norm(back, rgb, cv::NORM_L1) / rgb.total() / 3, 6.0) << ext << ": colours changed (BGR/RGB mix-up?)";
  }
}

// A JPEG carrying an EXIF orientation tag: 6 means "rotate 90 degrees clockwise to display".
std::string with_exif_orientation(const std::string& jpeg, uint8_t orientation) {
  const unsigned char app1[] = {0xFF, 0xE1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0x00, 0x2A, 0, 0, 0, 8,
                                0x00, 0x01, 0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, orientation, 0, 0, 0, 0, 0, 0};
  return jpeg.substr(0, 2) + std::string(reinterpret_cast<const char*>(app1), sizeof app1) + jpeg.substr(2);
}

TEST(ImageIo, AppliesExifOrientation) {
  TempDir dir;
  cv::Mat rgb(20, 40, CV_8UC3, cv::Scalar(255, 0, 0));       // 40 wide, 20 high: red...
  rgb(cv::Rect(20, 0, 20, 20)).setTo(cv::Scalar(0, 0, 255));  // ...with a blue right half
  test::write_picture(dir / "plain.jpg", rgb);
  test::write_file(dir / "rotated.jpg", with_exif_orientation(test::read_file(dir / "plain.jpg"), 6));
  cv::Mat shown = read_image(dir / "rotated.jpg");
  ASSERT_EQ(shown.cols, 20);
  ASSERT_EQ(shown.rows, 40);
  // Turned clockwise, the left (red) half is on top.
  EXPECT_GT(shown.at<cv::Vec3b>(5, 10)[0], 200);
  EXPECT_GT(shown.at<cv::Vec3b>(35, 10)[2], 200);
}

TEST(ImageIo, ReducedDecodingKeepsTheShorterSideAboveTheTarget) {
  TempDir dir;
  test::write_picture(dir / "big.jpg", test::picture(1024, 768, 3));
  double scale = 0;
  cv::Mat small = read_image(dir / "big.jpg", 224, &scale);
  EXPECT_EQ(scale, 0.5);  // 768 / 4 would drop below 224
  EXPECT_EQ(small.rows, 384);
  EXPECT_EQ(small.cols, 512);
  cv::Mat full = read_image(dir / "big.jpg", 0, &scale);
  EXPECT_EQ(scale, 1.0);
  EXPECT_EQ(full.rows, 768);
}

}  // namespace
}  // namespace mf::data
