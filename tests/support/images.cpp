#include "tests/support/images.h"

#include "data/builders.h"
#include "data/dataset_options.h"
#include "tests/support/files.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <stdexcept>

namespace mf::test {

cv::Mat picture(int width, int height, uint64_t seed) {
  data::DataConfig config;
  config.options.as<data::SyntheticOptions>() = {.images = 8, .classes = 8, .size = std::max(width, height)};
  config.val_fraction = 0;
  auto splits = data::build_synthetic(config, seed);
  cv::Mat full = splits.train->get(static_cast<int64_t>(seed % 8)).image;
  return full(cv::Rect(0, 0, width, height)).clone();
}

void write_picture(const std::filesystem::path& path, const cv::Mat& rgb) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  if (!cv::imwrite(path.string(), bgr)) throw std::runtime_error("cannot write " + path.string());
}

std::filesystem::path assets_dir() {
  auto dir = source_dir().parent_path() / "shared" / "assets";
  return std::filesystem::is_directory(dir) ? dir : std::filesystem::path();
}

}  // namespace mf::test
