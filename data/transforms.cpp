#include "data/transforms.h"

#include <opencv2/imgproc.hpp>

#include <cmath>

namespace mf::data {
namespace {

void scale_box(std::optional<Box>& box, double sx, double sy) {
  if (!box) return;
  (*box)[0] = static_cast<float>((*box)[0] * sx), (*box)[2] = static_cast<float>((*box)[2] * sx);
  (*box)[1] = static_cast<float>((*box)[1] * sy), (*box)[3] = static_cast<float>((*box)[3] * sy);
}

// Resizes so the shorter side is `side`: area averaging when shrinking (no aliasing),
// bilinear when growing.
void resize_shorter(Sample& s, int64_t side) {
  const int h = s.image.rows, w = s.image.cols;
  const double f = static_cast<double>(side) / std::min(h, w);
  const int nh = std::max<int>(1, static_cast<int>(std::lround(h * f))), nw = std::max<int>(1, static_cast<int>(std::lround(w * f)));
  if (nh == h && nw == w) return;
  cv::Mat out;
  cv::resize(s.image, out, {nw, nh}, 0, 0, f < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  scale_box(s.face_box, static_cast<double>(nw) / w, static_cast<double>(nh) / h);
  s.image = out;
}

}  // namespace

void Transform::apply(Sample& s, Rng& rng) const {
  if (resize > 0) resize_shorter(s, resize);
  if (crop > 0) {
    if (std::min(s.image.rows, s.image.cols) < crop) resize_shorter(s, crop);
    const int c = static_cast<int>(crop);
    const int max_x = s.image.cols - c, max_y = s.image.rows - c;
    const int x = random_crop ? static_cast<int>(rng.below(max_x + 1)) : max_x / 2;
    const int y = random_crop ? static_cast<int>(rng.below(max_y + 1)) : max_y / 2;
    s.image = s.image(cv::Rect(x, y, c, c));
    if (s.face_box) {
      auto& b = *s.face_box;
      b = {std::clamp(b[0] - x, 0.f, float(c)), std::clamp(b[1] - y, 0.f, float(c)), std::clamp(b[2] - x, 0.f, float(c)),
           std::clamp(b[3] - y, 0.f, float(c))};
    }
  }
  if (hflip && rng.coin()) {
    cv::Mat flipped;
    cv::flip(s.image, flipped, 1);
    s.image = flipped;
    if (s.face_box) {
      auto& b = *s.face_box;
      const float w = static_cast<float>(s.image.cols);
      b = {w - b[2], b[1], w - b[0], b[3]};
    }
  }
}

}  // namespace mf::data
