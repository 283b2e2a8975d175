// Small trained victims for tests that need a model whose decisions depend on the image.
#pragma once

#include <filesystem>

namespace mf::test {

// A tiny_cnn (4 classes) trained briefly on synthetic 32x32 images, saved with torch::save
// into build/test_victims and reused by later tests.
std::filesystem::path trained_tiny_cnn();

}  // namespace mf::test
