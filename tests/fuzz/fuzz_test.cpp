// Seeded mutation fuzzing, a fixed number of iterations per run: the image header checks
// and decoding, and the config reader, fed mutated copies of real files. Each input must
// give a result or the one documented error (BadImage, InputError): no crash, no other
// exception, no huge allocation. The seed is printed, so a failure can be replayed.
#include "core/error.h"
#include "data/image_io.h"
#include "data/random.h"
#include "eval/eval_config.h"
#include "protection/config.h"
#include "tests/support/files.h"
#include "tests/support/images.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace mf {
namespace {

namespace fs = std::filesystem;

uint64_t fuzz_seed() {
  const char* s = std::getenv("MF_FUZZ_SEED");
  return s ? std::strtoull(s, nullptr, 10) : 20261123;
}

int64_t fuzz_iterations(int64_t fallback) {
  const char* s = std::getenv("MF_FUZZ_ITERATIONS");
  return s ? std::strtoll(s, nullptr, 10) : fallback;
}

// One random edit of `bytes`: flipped bits, overwritten or inserted bytes (often the
// "interesting" values 0, 0xFF, 0x7F), a cut, or a copied chunk.
void mutate(std::string& bytes, data::Rng& rng, const std::string& alphabet = {}) {
  if (bytes.empty()) {
    bytes.push_back('x');
    return;
  }
  auto at = [&] { return static_cast<size_t>(rng.below(bytes.size())); };
  auto any_byte = [&]() -> char {
    if (!alphabet.empty()) return alphabet[rng.below(alphabet.size())];
    static const char interesting[] = {0, '\xFF', '\x7F', '\x80', 1};
    return rng.below(2) ? interesting[rng.below(sizeof interesting)] : static_cast<char>(rng.below(256));
  };
  switch (rng.below(6)) {
    case 0:
      bytes[at()] ^= static_cast<char>(1 << rng.below(8));
      break;
    case 1:
      for (size_t i = 0, n = 1 + rng.below(4); i < n; ++i) bytes[at()] = any_byte();
      break;
    case 2:
      bytes.insert(at(), 1 + rng.below(8), any_byte());
      break;
    case 3:
      bytes.resize(at());
      break;
    case 4: {
      const size_t from = at(), length = std::min<size_t>(1 + rng.below(64), bytes.size() - from);
      bytes.insert(at(), bytes.substr(from, length));
      break;
    }
    default:
      bytes.erase(at(), 1 + rng.below(8));
  }
}

TEST(Fuzz, ImageHeadersAndDecoding) {
  test::TempDir dir;
  const cv::Mat picture = test::picture(48, 40, 9);
  std::vector<std::string> seeds;
  for (const char* ext : {".jpg", ".png", ".bmp", ".webp"}) {
    test::write_picture(dir / (std::string("seed") + ext), picture);
    seeds.push_back(test::read_file(dir / (std::string("seed") + ext)));
  }
  // Mutated headers may declare big images within the limit; keep decoding them cheap.
  data::set_max_image_pixels(4'000'000);
  const uint64_t seed = fuzz_seed();
  const int64_t iterations = fuzz_iterations(2000);
  data::Rng rng(seed);
  int64_t decoded = 0, refused = 0;
  for (int64_t i = 0; i < iterations; ++i) {
    std::string bytes = seeds[rng.below(seeds.size())];
    for (int64_t k = 0, n = 1 + rng.below(4); k < n; ++k) mutate(bytes, rng);
    const fs::path file = dir / "fuzzed";
    test::write_file(file, bytes);
    try {
      const bool looks_fine = !data::check_image_file(file);
      cv::Mat image = data::read_image(file);
      EXPECT_TRUE(looks_fine) << "iteration " << i << " (seed " << seed << "): decoded a file the checks refuse";
      EXPECT_FALSE(image.empty());
      ++decoded;
    } catch (const data::BadImage&) {
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "iteration " << i << " (seed " << seed << "): " << e.what();
    }
  }
  data::set_max_image_pixels(data::kDefaultMaxImagePixels);
  std::printf("image fuzzing, seed %llu: %lld decoded, %lld refused\n", static_cast<unsigned long long>(seed), static_cast<long long>(decoded),
              static_cast<long long>(refused));
  EXPECT_GT(decoded, 0);
  EXPECT_GT(refused, 0);
}

TEST(Fuzz, ConfigReader) {
  test::TempDir dir;
  std::vector<std::pair<std::string, bool>> seeds;  // text, whether it is an eval config
  for (const auto& f : fs::directory_iterator(test::source_dir() / "configs")) {
    if (f.path().extension() == ".yaml") seeds.emplace_back(test::read_file(f.path()), f.path().stem().string().starts_with("eval_"));
  }
  std::sort(seeds.begin(), seeds.end());
  ASSERT_GT(seeds.size(), 5u);
  // YAML's own syntax, numbers, and the words configs are made of.
  const std::string alphabet = ":{}[],-#&*!|>'\"\n  0123456789./eE+_abcdefghijklmnopqrstuvwxyz";
  const uint64_t seed = fuzz_seed();
  const int64_t iterations = fuzz_iterations(1500);
  data::Rng rng(seed);
  int64_t read = 0, refused = 0;
  for (int64_t i = 0; i < iterations; ++i) {
    auto [text, is_eval] = seeds[rng.below(seeds.size())];
    for (int64_t k = 0, n = 1 + rng.below(3); k < n; ++k) mutate(text, rng, alphabet);
    const fs::path file = dir / "fuzzed.yaml";
    test::write_file(file, text);
    try {
      if (is_eval) eval::load_eval_config(file);
      else protection::load_config(file);
      ++read;
    } catch (const InputError&) {
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "iteration " << i << " (seed " << seed << "): not an InputError: " << e.what() << "\n" << text;
    }
  }
  std::printf("config fuzzing, seed %llu: %lld read, %lld refused\n", static_cast<unsigned long long>(seed), static_cast<long long>(read),
              static_cast<long long>(refused));
  EXPECT_GT(read, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace mf
