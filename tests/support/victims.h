// Small trained victims for tests that need a model whose decisions depend on the image.
#pragma once

#include <filesystem>

namespace mf::test {

// A tiny_cnn (4 classes) trained on synthetic 32x32 images to at least 90 % held-out
// accuracy (it throws otherwise), saved into victims_dir() and reused by later tests.
std::filesystem::path trained_tiny_cnn();

}  // namespace mf::test
