// The baselines' statistics (DP-Pix's Laplace noise, pixel cells, seeded noise) and K-RTIO's
// keyed round trip on real photos.
#include "data/image_io.h"
#include "losses/image_ops.h"
#include "protect/baselines.h"
#include "protect/krtio.h"
#include "protect/methods.h"
#include "tests/support/files.h"
#include "tests/support/images.h"
#include "tests/support/process.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace mf::protect {
namespace {

namespace fs = std::filesystem;

// Kolmogorov-Smirnov statistic of `samples` against Laplace(0, scale).
double ks_laplace(torch::Tensor samples, double scale) {
  samples = std::get<0>(samples.flatten().to(torch::kDouble).sort());
  const int64_t n = samples.numel();
  auto cdf = torch::where(samples < 0, 0.5 * torch::exp(samples / scale), 1 - 0.5 * torch::exp(-samples / scale));
  auto i = torch::arange(n, torch::kDouble);
  return torch::maximum((i + 1) / n - cdf, cdf - i / n).max().item<double>();
}

TEST(Baselines, DpPixNoiseIsLaplaceWithTheStatedScale) {
  // A flat grey image: every cell mean is 0.5, so a cell minus 0.5 is its noise. b = 4,
  // m = 1, epsilon = 1.25: scale m / (b^2 epsilon) = 0.05, ten scales from the clamp.
  auto x = torch::full({1, 3, 256, 256}, 0.5);
  auto noise = dp_pixelate(x, 4, 1, 1.25, {7}) - 0.5;  // 3 x 64 x 64 = 12288 cells
  const double critical = 1.95 / std::sqrt(static_cast<double>(noise.numel()));  // KS at alpha = 0.001
  const double d = ks_laplace(noise, 0.05), d_wrong = ks_laplace(noise, 0.06);
  std::printf("DP-Pix noise: KS statistic %.4f against the stated scale, %.4f against 1.2x it (critical %.4f)\n", d, d_wrong, critical);
  EXPECT_LT(d, critical);
  EXPECT_GT(d_wrong, critical);  // the test can tell a 20 % error in the scale
  // Partial cells (fewer pixels, larger sensitivity per pixel) get proportionally more noise:
  // a 258-wide image has a last column of cells 2 pixels wide, half the pixels, twice the scale.
  auto wide = dp_pixelate(torch::full({1, 3, 256, 258}, 0.5), 4, 1, 1.25, {7}) - 0.5;
  EXPECT_LT(ks_laplace(wide.select(3, 64), 0.1), 1.95 / std::sqrt(3.0 * 64));
  // The same seed gives the same noise; another seed, other noise.
  EXPECT_TRUE(torch::equal(dp_pixelate(x, 4, 1, 1.25, {7}), dp_pixelate(x, 4, 1, 1.25, {7})));
  EXPECT_FALSE(torch::equal(dp_pixelate(x, 4, 1, 1.25, {7}), dp_pixelate(x, 4, 1, 1.25, {8})));
}

TEST(Baselines, PixelationCellsHoldTheMeanOfTheirPixels) {
  torch::manual_seed(0);
  auto x = torch::rand({2, 3, 10, 13});
  MethodConfig c{"p", "pixelate", config::Options::of(PixelateOptions{.block = 4})};
  auto y = build_method(c, {})->protect(x, {"a", "b"});
  EXPECT_TRUE(torch::allclose(y.slice(2, 0, 4).slice(3, 0, 4), x.slice(2, 0, 4).slice(3, 0, 4).mean({2, 3}, true).expand({2, 3, 4, 4})));
  // The partial cell at the bottom right: rows 8-9, column 12.
  EXPECT_TRUE(torch::allclose(y.slice(2, 8).slice(3, 12), x.slice(2, 8).slice(3, 12).mean({2, 3}, true).expand({2, 3, 2, 1})));
}

TEST(Baselines, RandomMethodsFollowTheImageIdAndTheirBudget) {
  auto x = torch::full({2, 3, 16, 16}, 0.5);
  MethodConfig c{"n", "noise", config::Options::of(NoiseOptions{.eps = 8.0 / 255})};
  auto method = build_method(c, {c10::kCPU, 3});
  auto y = method->protect(x, {"a.png", "b.png"});
  EXPECT_LE((y - x).abs().max().item<double>(), 8.0 / 255 + 1e-7);
  EXPECT_GT((y - x).abs().mean().item<double>(), 0.4 * 4.0 / 255);  // uniform in [-eps, eps]: mean |noise| eps / 2
  EXPECT_TRUE(torch::equal(y[0], method->protect(x.slice(0, 0, 1), {"a.png"})[0]));
  EXPECT_FALSE(torch::equal(y[0], y[1]));
  EXPECT_FALSE(torch::equal(y, build_method(c, {c10::kCPU, 4})->protect(x, {"a.png", "b.png"})));
}

TEST(Krtio, TheKeyedFunctionDependsOnKeyAndLabel) {
  Key a{}, b{};
  b[0] = 1;
  const KeyedPrf fa(a), fb(b);
  int same_key = 0, other_key = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string label = fmt::format("image{}", i);
    same_key += fa.below(label, 1000) == fa.below(label, 1000);
    other_key += fa.below(label, 1000) == fb.below(label, 1000);
  }
  EXPECT_EQ(same_key, 200);
  EXPECT_LT(other_key, 5);
}

double psnr_of_files(const fs::path& a, const fs::path& b) {
  return losses::psnr(data::to_tensor(data::read_image(a)).unsqueeze(0), data::to_tensor(data::read_image(b)).unsqueeze(0)).item<double>();
}

TEST(Krtio, TheKeyRestoresRealPhotosAndAnotherKeyDoesNot) {
  const fs::path assets = test::assets_dir();
  if (assets.empty()) GTEST_SKIP() << "needs ../shared/assets";
  test::TempDir dir;
  fs::create_directories(dir / "in");
  for (const char* name : {"astronaut.png", "chelsea.png", "coffee.png"}) fs::copy_file(assets / "photos" / name, dir / "in" / name);
  test::write_file(dir / "key", "00112233445566778899aabbccddeeff\n");
  test::write_file(dir / "wrong", "00112233445566778899aabbccddeef0\n");
  const std::string method = fmt::format("--method krtio --set overlays={} --set k=3 --set block=16", (assets / "faces" / "lfw_subset").string());
  auto run = [&](const std::string& args) {
    auto r = test::run_maskforge(args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
  };
  run(fmt::format("protect {} --key-file {} --input {} --output {}", method, (dir / "key").string(), (dir / "in").string(), (dir / "protected").string()));
  run(fmt::format("protect {} --key-file {} --mode decode --input {} --output {}", method, (dir / "key").string(), (dir / "protected").string(),
                  (dir / "restored").string()));
  run(fmt::format("protect {} --key-file {} --mode decode --input {} --output {}", method, (dir / "wrong").string(), (dir / "protected").string(),
                  (dir / "wrong_key").string()));
  for (const char* name : {"astronaut.png", "chelsea.png", "coffee.png"}) {
    const double hidden = psnr_of_files(dir / "in" / name, dir / "protected" / name), restored = psnr_of_files(dir / "in" / name, dir / "restored" / name),
                 wrong = psnr_of_files(dir / "in" / name, dir / "wrong_key" / name);
    std::printf("K-RTIO %s: protected %.1f dB, restored with the key %.1f dB, with another key %.1f dB\n", name, hidden, restored, wrong);
    EXPECT_LT(hidden, 25) << name;
    EXPECT_GE(restored, 40) << name;
    EXPECT_LT(wrong, 25) << name;
  }
}

TEST(Krtio, ABadKeyFileIsRefused) {
  test::TempDir dir;
  test::write_picture(dir / "in" / "a.png", test::picture(32, 32, 1));
  test::write_picture(dir / "overlays" / "o.png", test::picture(32, 32, 2));
  test::write_file(dir / "key", "not a key");
  auto r = test::run_maskforge(fmt::format("protect --method krtio --set overlays={} --key-file {} --input {} --output {}", (dir / "overlays").string(),
                                           (dir / "key").string(), (dir / "in").string(), (dir / "out").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("must hold 16 bytes or 32 hex digits"), std::string::npos) << r.output;
  auto missing = test::run_maskforge(fmt::format("protect --method krtio --set overlays={} --input {} --output {}", (dir / "overlays").string(),
                                                 (dir / "in").string(), (dir / "out").string()));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("key_file"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace mf::protect
