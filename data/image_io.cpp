#include "data/image_io.h"

#include "core/error.h"

#include <ATen/ATen.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <array>
#include <atomic>
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

uint32_t big_endian(const uint8_t* b, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | b[i];
  return v;
}

uint32_t little_endian(const uint8_t* b, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}

// `n` bytes at `offset`, or nothing past the end of the file.
std::optional<std::vector<uint8_t>> bytes_at(std::istream& in, std::streamoff offset, size_t n) {
  std::vector<uint8_t> b(n);
  in.clear();
  in.seekg(offset);
  if (!in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(n))) return std::nullopt;
  return b;
}

// Width and height from a JPEG's start-of-frame segment, found by walking the segments
// (EXIF and ICC data can put it far from the start).
std::optional<cv::Size> jpeg_size(std::istream& in) {
  std::streamoff at = 2;
  while (auto m = bytes_at(in, at, 2)) {
    const uint8_t marker = (*m)[1];
    if ((*m)[0] != 0xFF) return std::nullopt;
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // markers without a length
      at += 2;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return std::nullopt;  // scan data or the end, and no frame before it
    auto segment = bytes_at(in, at + 2, 7);
    if (!segment) return std::nullopt;
    const bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame) return cv::Size(static_cast<int>(big_endian(&(*segment)[5], 2)), static_cast<int>(big_endian(&(*segment)[3], 2)));
    at += 2 + big_endian(segment->data(), 2);
  }
  return std::nullopt;
}

// The size an image file's header declares, read without decoding, or nothing when the
// header holds none.
std::optional<cv::Size> declared_size(std::istream& in, Format format) {
  const auto header = bytes_at(in, 0, 30);
  if (format == Format::jpeg) return jpeg_size(in);
  if (!header) return std::nullopt;
  const uint8_t* h = header->data();
  auto size = [](uint64_t w, uint64_t h) -> std::optional<cv::Size> {
    if (w > INT32_MAX || h > INT32_MAX) return cv::Size(INT32_MAX, INT32_MAX);
    return cv::Size(static_cast<int>(w), static_cast<int>(h));
  };
  switch (format) {
    case Format::png:  // IHDR, the first chunk
      return size(big_endian(h + 16, 4), big_endian(h + 20, 4));
    case Format::bmp: {  // a 12-byte core header has 16-bit sizes; later ones 32-bit, height negative when top-down
      if (little_endian(h + 14, 4) == 12) return size(little_endian(h + 18, 2), little_endian(h + 20, 2));
      const int64_t w = static_cast<int32_t>(little_endian(h + 18, 4)), height = static_cast<int32_t>(little_endian(h + 22, 4));
      return size(static_cast<uint64_t>(std::abs(w)), static_cast<uint64_t>(std::abs(height)));
    }
    case Format::webp: {
      const std::string chunk(h + 12, h + 16);
      if (chunk == "VP8 ") return size(little_endian(h + 26, 2) & 0x3FFF, little_endian(h + 28, 2) & 0x3FFF);
      if (chunk == "VP8L") {
        const uint32_t bits = little_endian(h + 21, 4);
        return size((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
      }
      if (chunk == "VP8X") return size(little_endian(h + 24, 3) + 1, little_endian(h + 27, 3) + 1);
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::atomic<int64_t> max_pixels{kDefaultMaxImagePixels};

// What check_image_file finds: why the file cannot be an image, or its format and size.
struct Inspection {
  std::optional<std::string> problem;
  Format format = Format::unknown;
  cv::Size size;
};

Inspection inspect(const fs::path& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (fs::is_symlink(fs::symlink_status(path, ec)) && !fs::exists(status)) return {"is a broken link"};
  if (!fs::exists(status)) return {"does not exist"};
  if (fs::is_directory(status)) return {"is a directory, not an image"};
  if (!fs::is_regular_file(status)) return {"is not a regular file"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {fmt::format("cannot be read: {}", std::strerror(errno))};
  const auto file_size = fs::file_size(path, ec);
  if (ec) return {fmt::format("cannot be read: {}", ec.message())};
  if (file_size == 0) return {"is empty (0 bytes)"};
  std::vector<uint8_t> head(16, 0);
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  const Format format = sniff(head);
  if (format == Format::unknown) return {"is not a JPEG, PNG, BMP or WebP image (unknown file signature)"};
  const size_t tail_size = std::min<size_t>(file_size, 64);
  auto tail = bytes_at(in, static_cast<std::streamoff>(file_size - tail_size), tail_size);
  if (!tail) return {"cannot be read to its end"};
  if (auto why = check_end(format, *tail)) return {why};
  const auto size = declared_size(in, format);
  if (!size || size->width <= 0 || size->height <= 0) return {"has no image size in its header (corrupt?)"};
  const double pixels = static_cast<double>(size->width) * static_cast<double>(size->height);
  if (pixels > static_cast<double>(max_pixels.load())) {
    auto megapixels = [](double p) { return p >= 1e6 ? fmt::format("{:.1f}", p / 1e6) : fmt::format("{:.3g}", p / 1e6); };
    return {fmt::format("is too large: its header declares {} x {} pixels ({} megapixels), above the limit of {} (--max-image-megapixels)",
                        size->width, size->height, megapixels(pixels), megapixels(static_cast<double>(max_pixels.load())))};
  }
  return {std::nullopt, format, *size};
}

}  // namespace

bool has_image_extension(const fs::path& path) {
  const std::string ext = lower_extension(path);
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".webp";
}

std::optional<std::string> check_image_file(const fs::path& path) { return inspect(path).problem; }

void set_max_image_pixels(int64_t pixels) { max_pixels = pixels; }

int64_t max_image_pixels() { return max_pixels; }

cv::Mat read_image(const fs::path& path, int64_t min_side, double* scale) {
  const Inspection file = inspect(path);
  if (file.problem) throw BadImage(*file.problem);
  const std::vector<uint8_t> bytes = read_bytes(path);
  int flags = cv::IMREAD_COLOR;
  double factor = 1.0;
  if (min_side > 0 && file.format == Format::jpeg) {
    const int shorter = std::min(file.size.width, file.size.height);
    if (shorter >= 8 * min_side) flags = cv::IMREAD_REDUCED_COLOR_8, factor = 0.125;
    else if (shorter >= 4 * min_side) flags = cv::IMREAD_REDUCED_COLOR_4, factor = 0.25;
    else if (shorter >= 2 * min_side) flags = cv::IMREAD_REDUCED_COLOR_2, factor = 0.5;
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
  at::Tensor chw = at::empty({3, rgb.rows, rgb.cols}, at::kFloat);
  write_tensor(rgb, chw);
  return chw;
}

void write_tensor(const cv::Mat& rgb, const at::Tensor& chw) {
  if (rgb.type() != CV_8UC3) fail_runtime("an image tensor needs an 8-bit 3-channel image");
  if (chw.scalar_type() != at::kFloat || !chw.device().is_cpu() || chw.sizes() != at::IntArrayRef{3, rgb.rows, rgb.cols}) {
    fail_runtime("write_tensor: a {}x{} image needs a float CPU tensor of 3x{}x{}, got {}", rgb.cols, rgb.rows, rgb.rows, rgb.cols, fmt::join(chw.sizes(), "x"));
  }
  static const std::array<float, 256> unit = [] {
    std::array<float, 256> v{};
    for (int i = 0; i < 256; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i) / 255.0f;  // as ATen's division rounds
    return v;
  }();
  float* out = chw.data_ptr<float>();
  const int64_t sc = chw.stride(0), sy = chw.stride(1), sx = chw.stride(2);
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* row = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x) {
      float* px = out + y * sy + x * sx;
      for (int c = 0; c < 3; ++c) px[c * sc] = unit[row[3 * x + c]];
    }
  }
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
  std::vector<uint8_t> encoded;
  try {
    if (!cv::imencode(ext, bgr, encoded, params)) fail_runtime("cannot encode '{}'", path.string());
  } catch (const cv::Exception& e) {
    fail_runtime("cannot encode '{}': {}", path.string(), e.err);
  }
  // Written whole under a temporary name, then renamed: a killed process never leaves a
  // half-written image under the final name.
  const fs::path part = path.string() + ".part";
  {
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(encoded.data()), static_cast<std::streamsize>(encoded.size()));
    if (!out.flush()) fail_runtime("cannot write '{}': {}", part.string(), std::strerror(errno));
  }
  std::error_code ec;
  fs::rename(part, path, ec);
  if (ec) fail_runtime("cannot write '{}': {}", path.string(), ec.message());
}

}  // namespace mf::data
