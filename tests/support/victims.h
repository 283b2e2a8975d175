// Small trained victims for tests that need a model whose decisions depend on the image.
#pragma once

#include <filesystem>

namespace mf::test {

// A tiny_cnn (4 classes) trained on synthetic 32x32 images to at least 90 % held-out
// accuracy (it throws otherwise), saved into victims_dir() and reused by later tests.
std::filesystem::path trained_tiny_cnn();

// A TorchScript detector of 3 boxes per image, (x0, y0, x1, y1, score), scores and corners
// from a random convolution; its score_boxes gives given boxes [N, K, 4] a score from the
// image and the box (as the MTCNN export's O-Net does). Saved as `path`.
void write_box_scoring_detector(const std::filesystem::path& path);

}  // namespace mf::test
