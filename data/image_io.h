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

// Why `path` cannot be an image, judged from its header and end without decoding: missing,
// not a regular file, unreadable, empty, unknown signature, a JPEG/PNG whose end is
// missing, no size in the header, or more pixels than max_image_pixels(). Nothing when it
// looks fine.
std::optional<std::string> check_image_file(const fs::path& path);

// The most pixels an image may declare in its header; larger ones are refused before
// decoding, since a small file can declare a huge image (a decompression bomb). The limit
// is per process (the CLI's --max-image-megapixels sets it); the default is Pillow's.
inline constexpr int64_t kDefaultMaxImagePixels = 89'478'485;
void set_max_image_pixels(int64_t pixels);
int64_t max_image_pixels();

// Decodes `path` to RGB, 8 bits per channel, EXIF orientation applied. With min_side > 0,
// a JPEG may be decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling) as long as its
// shorter side stays >= min_side: the caller will shrink it anyway; `scale` (if given)
// receives the factor applied (1, 1/2, 1/4 or 1/8). Throws BadImage (with
// check_image_file's reasons, among others).
cv::Mat read_image(const fs::path& path, int64_t min_side = 0, double* scale = nullptr);

// RGB uint8 HxWx3 -> float [3, H, W] in [0, 1], and back (rounded, clamped).
at::Tensor to_tensor(const cv::Mat& rgb);
cv::Mat to_mat(const at::Tensor& chw);
// to_tensor into `chw`, a float [3, H, W] CPU view of any strides (a channels-last batch's
// image, say). Plain loops, no ATen kernel: loader and protect threads call it, and an ATen
// kernel there would start an OpenMP team per thread on top of the trainer's.
void write_tensor(const cv::Mat& rgb, const at::Tensor& chw);

// Writes a [3, H, W] image in [0, 1]; the format follows the extension. JPEG quality 1-100.
// The file appears whole or not at all (written as PATH.part, then renamed).
void write_image(const fs::path& path, const at::Tensor& chw, int jpeg_quality = 95);

}  // namespace mf::data
