// Image files <-> pixels: decoding with OpenCV (RGB, EXIF orientation applied), cheap
// validity checks, tensor conversion, and writing protected images back.
#pragma once

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace mf::data {

namespace fs = std::filesystem;

// A file that cannot be decoded as an image; what() is the reason.
class BadImage : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// True for the extensions maskforge reads: .jpg .jpeg .png .bmp .webp (any case).
bool has_image_extension(const fs::path& path);

// Why `path` cannot be an image, judged without decoding: missing, not a regular file,
// unreadable, empty, unknown signature, or a JPEG/PNG whose end is missing. Nothing when
// it looks fine.
std::optional<std::string> check_image_file(const fs::path& path);

// Decodes `path` to RGB, 8 bits per channel, EXIF orientation applied. With min_side > 0,
// a JPEG may be decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling) as long as its
// shorter side stays >= min_side: the caller will shrink it anyway; `scale` (if given)
// receives the factor applied (1, 1/2, 1/4 or 1/8). Throws BadImage.
cv::Mat read_image(const fs::path& path, int64_t min_side = 0, double* scale = nullptr);

// RGB uint8 HxWx3 -> float [3, H, W] in [0, 1], and back (rounded, clamped).
at::Tensor to_tensor(const cv::Mat& rgb);
cv::Mat to_mat(const at::Tensor& chw);

// Writes a [3, H, W] image in [0, 1]; the format follows the extension. JPEG quality 1-100.
void write_image(const fs::path& path, const at::Tensor& chw, int jpeg_quality = 95);

}  // namespace mf::data
