// The `synthetic` dataset: images of shapes on textured backgrounds, one shape per class,
// drawn on demand from (seed, index). They look like simple pictures, not noise, so a
// small classifier learns them, and they need no files: the quickstart and the tests use them.
#include "data/bad_files.h"
#include "data/builders.h"
#include "data/dataset_options.h"
#include "data/random.h"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <numbers>

namespace mf::data {
namespace {

const std::vector<std::string> kShapes = {"circle", "square", "triangle", "cross", "ring", "star", "bars", "hexagon"};

cv::Scalar random_colour(Rng& rng) { return {rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)}; }

double luminance(const cv::Scalar& c) { return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]; }

cv::Mat background(int size, Rng& rng) {
  const cv::Scalar a = random_colour(rng), b = random_colour(rng);
  cv::Mat img(size, size, CV_32FC3);
  const int style = static_cast<int>(rng.below(3));
  const double angle = rng.uniform(0, 2 * std::numbers::pi), freq = rng.uniform(2, 6), phase = rng.uniform(0, 6.3);
  cv::Mat grid(4, 4, CV_32FC3);  // for the smooth-noise style
  for (int i = 0; i < 16; ++i) grid.at<cv::Vec3f>(i / 4, i % 4) = cv::Vec3f(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255));
  cv::Mat smooth;
  cv::resize(grid, smooth, {size, size}, 0, 0, cv::INTER_CUBIC);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const double u = (x * std::cos(angle) + y * std::sin(angle)) / size;
      double t = style == 0 ? std::clamp(u * 0.5 + 0.5, 0.0, 1.0) : 0.5 + 0.5 * std::sin(2 * std::numbers::pi * freq * u + phase);
      cv::Vec3f& p = img.at<cv::Vec3f>(y, x);
      if (style == 2) p = smooth.at<cv::Vec3f>(y, x);
      else
        for (int c = 0; c < 3; ++c) p[c] = static_cast<float>(a[c] * (1 - t) + b[c] * t);
    }
  }
  return img;
}

std::vector<cv::Point> polygon(int sides, cv::Point2d centre, double radius, double rotation, double inner = 0) {
  std::vector<cv::Point> pts;
  const int n = inner > 0 ? 2 * sides : sides;
  for (int i = 0; i < n; ++i) {
    const double r = (inner > 0 && i % 2) ? inner : radius;
    const double a = rotation + 2 * std::numbers::pi * i / n;
    pts.emplace_back(cv::Point2d(centre.x + r * std::cos(a), centre.y + r * std::sin(a)) * 16);  // 4 fractional bits
  }
  return pts;
}

void draw_shape(cv::Mat& img, int shape, Rng& rng) {
  const int size = img.rows;
  const double radius = size * rng.uniform(0.22, 0.34);
  const cv::Point2d c(size * rng.uniform(0.35, 0.65), size * rng.uniform(0.35, 0.65));
  const double rot = rng.uniform(0, 2 * std::numbers::pi);
  const cv::Scalar bg = cv::mean(img);
  cv::Scalar colour = random_colour(rng);
  if (std::abs(luminance(colour) - luminance(bg)) < 60) colour = luminance(bg) > 128 ? cv::Scalar(20, 20, 20) : cv::Scalar(235, 235, 235);
  auto fill = [&](const std::vector<cv::Point>& pts) { cv::fillPoly(img, std::vector<std::vector<cv::Point>>{pts}, colour, cv::LINE_AA, 4); };
  const cv::Point c16(static_cast<int>(c.x * 16), static_cast<int>(c.y * 16));
  switch (shape) {
    case 0: cv::circle(img, c16, static_cast<int>(radius * 16), colour, cv::FILLED, cv::LINE_AA, 4); break;
    case 1: fill(polygon(4, c, radius, rot)); break;
    case 2: fill(polygon(3, c, radius, rot)); break;
    case 3: {
      const double w = radius * 0.35;
      for (double a : {rot, rot + std::numbers::pi / 2}) {
        cv::RotatedRect bar(c, cv::Size2f(static_cast<float>(2 * radius), static_cast<float>(w)), static_cast<float>(a * 180 / std::numbers::pi));
        cv::Point2f v[4];
        bar.points(v);
        fill({cv::Point(v[0] * 16), cv::Point(v[1] * 16), cv::Point(v[2] * 16), cv::Point(v[3] * 16)});
      }
      break;
    }
    case 4: cv::circle(img, c16, static_cast<int>(radius * 0.8 * 16), colour, std::max(2, size / 12), cv::LINE_AA, 4); break;
    case 5: fill(polygon(5, c, radius, rot, radius * 0.45)); break;
    case 6:
      for (int k = -1; k <= 1; k += 2) {
        const cv::Point2d o(c.x, c.y + k * radius * 0.45);
        fill({cv::Point((o + cv::Point2d(-radius, -radius * 0.15)) * 16), cv::Point((o + cv::Point2d(radius, -radius * 0.15)) * 16),
              cv::Point((o + cv::Point2d(radius, radius * 0.15)) * 16), cv::Point((o + cv::Point2d(-radius, radius * 0.15)) * 16)});
      }
      break;
    default: fill(polygon(6, c, radius, rot)); break;
  }
}

class Synthetic final : public Dataset {
 public:
  Synthetic(SyntheticOptions o, uint64_t seed) : o_(o), seed_(seed) {}
  int64_t size() const override { return o_.images; }
  std::string source(int64_t index) const override { return fmt::format("synthetic #{}", index); }
  std::vector<std::string> class_names() const override { return {kShapes.begin(), kShapes.begin() + o_.classes}; }

  Sample get(int64_t index) const override {
    Rng rng(mix(seed_, static_cast<uint64_t>(index), 0x5e7));
    const int size = static_cast<int>(o_.size);
    const int64_t label = index % o_.classes;
    cv::Mat img = background(size, rng);
    draw_shape(img, static_cast<int>(label), rng);
    cv::Mat noise(size, size, CV_32FC3);
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x)
        for (int ch = 0; ch < 3; ++ch) noise.at<cv::Vec3f>(y, x)[ch] = static_cast<float>(rng.uniform(-6, 6));
    img += noise;
    Sample s;
    img.convertTo(s.image, CV_8UC3);  // saturates to [0, 255]
    s.label = label;
    return s;
  }

 private:
  SyntheticOptions o_;
  uint64_t seed_;
};

}  // namespace

DatasetSplits build_synthetic(const DataConfig& config, uint64_t seed) {
  auto all = std::make_shared<Synthetic>(config.options.as<SyntheticOptions>(), seed);
  return split_dataset(all, config.val_fraction, seed, std::make_shared<BadFiles>(true));
}

}  // namespace mf::data
