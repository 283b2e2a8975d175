#include "data/image_io.h"

#include "core/error.h"

#include <ATen/ATen.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace mf::data {
namespace {

std::string lower_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

bool starts_with(const std::vector<uint8_t>& bytes, std::initializer_list<int> prefix) {
  if (bytes.size() < prefix.size()) return false;
  size_t i = 0;
  for (int b : prefix) {
    if (b >= 0 && bytes[i] != b) return false;  // -1 matches any byte
    ++i;
  }
  return true;
}

enum class Format { jpeg, png, bmp, webp, unknown };

Format sniff(const std::vector<uint8_t>& head) {
  if (starts_with(head, {0xFF, 0xD8, 0xFF})) return Format::jpeg;
  if (starts_with(head, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) return Format::png;
  if (starts_with(head, {'B', 'M'})) return Format::bmp;
  if (starts_with(head, {'R', 'I', 'F', 'F', -1, -1, -1, -1, 'W', 'E', 'B', 'P'})) return Format::webp;
  return Format::unknown;
}

std::vector<uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BadImage(fmt::format("cannot be read: {}", std::strerror(errno)));
  in.seekg(0, std::ios::end);
  std::vector<uint8_t> bytes(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()))) {
    throw BadImage("cannot be read to its end");
  }
  return bytes;
}

// Checks the end of a JPEG or PNG, where truncation shows (libjpeg would otherwise fill the
// missing rows with grey and only warn).
std::optional<std::string> check_end(Format format, const std::vector<uint8_t>& tail) {
  if (format == Format::jpeg) {
    size_t n = tail.size();
    while (n > 2 && (tail[n - 1] == 0x00 || tail[n - 1] == 0x0A || tail[n - 1] == 0x0D)) --n;  // padding after EOI
    if (n < 2 || tail[n - 2] != 0xFF || tail[n - 1] != 0xD9) return "is truncated (no JPEG end-of-image marker)";
  }
  if (format == Format::png) {
    static const uint8_t iend[] = {'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    if (tail.size() < 8 || !std::equal(std::begin(iend), std::end(iend), tail.end() - 8)) return "is truncated (no PNG IEND chunk)";
  }
  return std::nullopt;
}

// Width and height from a JPEG's start-of-frame segment, or nothing.
std::optional<std::pair<int, int>> jpeg_size(const std::vector<uint8_t>& b) {
  size_t i = 2;
  while (i + 9 < b.size()) {
    if (b[i] != 0xFF) return std::nullopt;
    uint8_t marker = b[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    size_t length = (size_t(b[i + 2]) << 8) | b[i + 3];
    bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) return std::pair<int, int>{(b[i + 7] << 8) | b[i + 8], (b[i + 5] << 8) | b[i + 6]};
    i += 2 + length;
  }
  return std::nullopt;
}

}  // namespace

bool has_image_extension(const fs::path& path) {
  const std::string ext = lower_extension(path);
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".webp";
}

std::optional<std::string> check_image_file(const fs::path& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (fs::is_symlink(fs::symlink_status(path, ec)) && !fs::exists(status)) return "is a broken link";
  if (!fs::exists(status)) return "does not exist";
  if (fs::is_directory(status)) return "is a directory, not an image";
  if (!fs::is_regular_file(status)) return "is not a regular file";
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("cannot be read: {}", std::strerror(errno));
  const auto size = fs::file_size(path, ec);
  if (ec) return fmt::format("cannot be read: {}", ec.message());
  if (size == 0) return "is empty (0 bytes)";
  std::vector<uint8_t> head(16, 0);
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  const Format format = sniff(head);
  if (format == Format::unknown) return "is not a JPEG, PNG, BMP or WebP image (unknown file signature)";
  const size_t tail_size = std::min<size_t>(size, 64);
  std::vector<uint8_t> tail(tail_size);
  in.clear();
  in.seekg(static_cast<std::streamoff>(size - tail_size));
  in.read(reinterpret_cast<char*>(tail.data()), static_cast<std::streamsize>(tail_size));
  return check_end(format, tail);
}

cv::Mat read_image(const fs::path& path, int64_t min_side, double* scale) {
  if (auto why = check_image_file(path)) throw BadImage(*why);
  const std::vector<uint8_t> bytes = read_bytes(path);
  int flags = cv::IMREAD_COLOR;
  double factor = 1.0;
  if (min_side > 0 && sniff(bytes) == Format::jpeg) {
    if (auto size = jpeg_size(bytes)) {
      const int shorter = std::min(size->first, size->second);
      if (shorter >= 8 * min_side) flags = cv::IMREAD_REDUCED_COLOR_8, factor = 0.125;
      else if (shorter >= 4 * min_side) flags = cv::IMREAD_REDUCED_COLOR_4, factor = 0.25;
      else if (shorter >= 2 * min_side) flags = cv::IMREAD_REDUCED_COLOR_2, factor = 0.5;
    }
  }
  if (scale) *scale = factor;
  cv::Mat bgr;
  try {
    bgr = cv::imdecode(bytes, flags);
  } catch (const cv::Exception& e) {
    throw BadImage(fmt::format("cannot be decoded: {}", e.err));
  }
  if (bgr.empty()) throw BadImage("cannot be decoded (corrupt or unsupported image data)");
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

at::Tensor to_tensor(const cv::Mat& rgb) {
  if (rgb.type() != CV_8UC3) fail_runtime("to_tensor expects an 8-bit 3-channel image");
  cv::Mat packed = rgb.isContinuous() ? rgb : rgb.clone();
  auto hwc = at::from_blob(packed.data, {packed.rows, packed.cols, 3}, at::kByte);
  return hwc.permute({2, 0, 1}).to(at::kFloat).div_(255.0f);
}

cv::Mat to_mat(const at::Tensor& chw) {
  if (chw.dim() != 3 || chw.size(0) != 3) fail_runtime("to_mat expects a [3, H, W] tensor, got {}", fmt::join(chw.sizes(), "x"));
  auto hwc = chw.detach().to(at::kCPU, at::kFloat).clamp(0, 1).mul(255).round_().to(at::kByte).permute({1, 2, 0}).contiguous();
  return cv::Mat(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3, hwc.data_ptr()).clone();
}

void write_image(const fs::path& path, const at::Tensor& chw, int jpeg_quality) {
  cv::Mat bgr;
  cv::cvtColor(to_mat(chw), bgr, cv::COLOR_RGB2BGR);
  std::vector<int> params;
  const std::string ext = lower_extension(path);
  if (ext == ".jpg" || ext == ".jpeg") params = {cv::IMWRITE_JPEG_QUALITY, jpeg_quality};
  if (ext == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, std::min(jpeg_quality, 100)};
  bool ok = false;
  try {
    ok = cv::imwrite(path.string(), bgr, params);
  } catch (const cv::Exception& e) {
    fail_runtime("cannot write '{}': {}", path.string(), e.err);
  }
  if (!ok) fail_runtime("cannot write '{}'", path.string());
}

}  // namespace mf::data
