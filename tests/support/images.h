// Real image files for tests, written with OpenCV from the synthetic dataset's pictures.
#pragma once

#include <opencv2/core/mat.hpp>

#include <filesystem>
#include <string>

namespace mf::test {

// A picture (shapes on a texture) of the given size, RGB, different for each `seed`.
cv::Mat picture(int width, int height, uint64_t seed);

// Writes `rgb` to `path`; the format follows the extension.
void write_picture(const std::filesystem::path& path, const cv::Mat& rgb);

// The shared real assets (../shared/assets), or an empty path when absent.
std::filesystem::path assets_dir();

}  // namespace mf::test
