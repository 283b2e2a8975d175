// Decoding and encoding real files.
#include "data/image_io.h"
#include "tests/support/files.h"
#include "tests/support/images.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

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

TEST(ImageIo, TensorsHoldTheSameValuesAsAtenConvertsToInEveryLayout) {
  cv::Mat rgb = test::picture(37, 23, 3);
  at::Tensor hwc = at::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, at::kByte);
  at::Tensor expected = hwc.permute({2, 0, 1}).to(at::kFloat).div(255.0f);
  EXPECT_TRUE(at::equal(to_tensor(rgb), expected));
  EXPECT_TRUE(to_tensor(rgb).is_contiguous());
  at::Tensor nhwc = at::empty({1, 3, rgb.rows, rgb.cols}, at::TensorOptions(at::kFloat).memory_format(at::MemoryFormat::ChannelsLast));
  write_tensor(rgb, nhwc[0]);
  EXPECT_TRUE(at::equal(nhwc[0], expected));
  EXPECT_THROW(write_tensor(rgb, at::empty({3, rgb.cols, rgb.rows})), std::runtime_error);
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

// Sets the pixel limit for one test and restores the default after it.
struct PixelLimit {
  explicit PixelLimit(int64_t pixels) { set_max_image_pixels(pixels); }
  ~PixelLimit() { set_max_image_pixels(kDefaultMaxImagePixels); }
};

TEST(ImageIo, RefusesImagesAboveThePixelLimitInEveryFormat) {
  TempDir dir;
  const cv::Mat rgb = test::picture(1200, 1000, 4);  // 1.2 megapixels
  for (const char* ext : {".jpg", ".png", ".bmp", ".webp"}) {
    const fs::path file = dir / (std::string("big") + ext);
    test::write_picture(file, rgb);
    {
      PixelLimit limit(1'000'000);
      auto why = check_image_file(file);
      ASSERT_TRUE(why) << ext;
      EXPECT_NE(why->find("declares 1200 x 1000 pixels (1.2 megapixels), above the limit of 1.0"), std::string::npos) << *why;
      EXPECT_THROW(read_image(file), BadImage) << ext;
    }
    PixelLimit limit(1'200'000);
    EXPECT_FALSE(check_image_file(file)) << ext;
    EXPECT_EQ(read_image(file).size(), rgb.size()) << ext;
  }
}

// Overwrites bytes of `bytes` at `offset`.
void patch(std::string& bytes, size_t offset, std::initializer_list<uint8_t> values) {
  for (uint8_t v : values) bytes[offset++] = static_cast<char>(v);
}

// Small files whose headers declare 20000 x 20000 pixels (16000 x 16000 for WebP, whose
// sides stop at 16383), while their data stay those of a 64 x 48 image: refused from the
// header alone, with the default limit.
TEST(ImageIo, RefusesDecompressionBombsFromTheirHeaders) {
  TempDir dir;
  const cv::Mat rgb = test::picture(64, 48, 5);
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  for (const char* ext : {".png", ".bmp", ".webp", ".jpg"}) {
    const std::string ex(ext);
    const fs::path small = dir / ("small" + ex);
    // Lossy WebP (a VP8 frame header; the lossless VP8L one is read in the next test).
    ASSERT_TRUE(cv::imwrite(small.string(), bgr, {cv::IMWRITE_WEBP_QUALITY, 90, cv::IMWRITE_JPEG_QUALITY, 90}));
    std::string bytes = test::read_file(small);
    if (ex == ".png") patch(bytes, 16, {0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20});  // IHDR width, height
    if (ex == ".bmp") patch(bytes, 18, {0x20, 0x4E, 0, 0, 0x20, 0x4E, 0, 0});  // BITMAPINFOHEADER
    if (ex == ".webp") {
      ASSERT_EQ(bytes.substr(12, 4), "VP8 ");
      patch(bytes, 26, {0x80, 0x3E, 0x80, 0x3E});  // VP8 frame header: 16000, 16000
    }
    if (ex == ".jpg") {  // the start-of-frame segment
      const size_t sof = bytes.find("\xFF\xC0");
      ASSERT_NE(sof, std::string::npos);
      patch(bytes, sof + 5, {0x4E, 0x20, 0x4E, 0x20});
    }
    test::write_file(dir / ("bomb" + ex), bytes);
    auto why = check_image_file(dir / ("bomb" + ex));
    ASSERT_TRUE(why) << ext;
    const std::string declared = ex == ".webp" ? "declares 16000 x 16000 pixels (256.0 megapixels)" : "declares 20000 x 20000 pixels (400.0 megapixels)";
    EXPECT_NE(why->find(declared + ", above the limit of 89.5"), std::string::npos) << *why;
    EXPECT_THROW(read_image(dir / ("bomb" + ex)), BadImage);
  }
}

TEST(ImageIo, ReadsTheSizeOfLosslessWebpAndOfJpegsWithLargeMetadata) {
  TempDir dir;
  const cv::Mat rgb = test::picture(70, 30, 6);
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  ASSERT_TRUE(cv::imwrite((dir / "lossless.webp").string(), bgr, {cv::IMWRITE_WEBP_QUALITY, 101}));  // above 100: VP8L
  PixelLimit limit(70 * 30);
  EXPECT_FALSE(check_image_file(dir / "lossless.webp"));
  EXPECT_EQ(read_image(dir / "lossless.webp").size(), rgb.size());
  // A 60 KB comment segment before the frame header.
  test::write_picture(dir / "plain.jpg", rgb);
  const std::string jpeg = test::read_file(dir / "plain.jpg");
  std::string comment = "\xFF\xFE\xEA\x62" + std::string(0xEA62 - 2, 'c');
  test::write_file(dir / "commented.jpg", jpeg.substr(0, 2) + comment + jpeg.substr(2));
  EXPECT_FALSE(check_image_file(dir / "commented.jpg"));
  set_max_image_pixels(70 * 30 - 1);
  EXPECT_TRUE(check_image_file(dir / "commented.jpg"));
  EXPECT_TRUE(check_image_file(dir / "lossless.webp"));
}

}  // namespace
}  // namespace mf::data
