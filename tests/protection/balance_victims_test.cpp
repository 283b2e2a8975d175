// trainer.balance_victims: each victim's gradient at the protected images is rescaled, per
// image, to the mean over the victims before the gradients add up.
#include "protection/protection.h"
#include "tests/support/files.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

namespace mf::protection {
namespace {

using test::TempDir;

// A small convolutional classifier of 4 classes whose logits are multiplied by `scale`.
void save_classifier(const std::filesystem::path& path, uint64_t seed, double scale) {
  torch::manual_seed(seed);
  torch::jit::Module m("Classifier");
  m.register_parameter("w", torch::randn({8, 3, 3, 3}), false);
  m.register_parameter("head", torch::randn({4, 8}) * scale, false);
  m.define(R"(
def forward(self, x):
  h = torch.relu(torch.conv2d(x, self.w, None, [2, 2], [1, 1]))
  return torch.matmul(h.mean([2, 3]), self.head.t())
)");
  m.save(path.string());
}

// The config of victims `names` (of a.pt, b.pt in `dir`), the cross-entropy on them and the
// ssim term.
Config config(const TempDir& dir, const std::string& names, bool balance) {
  test::write_file(dir / "c.yaml", fmt::format(R"(version: 1
run: {{out_dir: {dir}, name: r}}
data: {{dataset: synthetic, images: 8, classes: 4, size: 16}}
victims:
  - {{name: a, kind: classifier, source: torchscript, path: {dir}/a.pt, input_size: [16, 16]}}
  - {{name: b, kind: classifier, source: torchscript, path: {dir}/b.pt, input_size: [16, 16]}}
losses:
  - {{name: untargeted_ce, victims: [{names}]}}
  - {{name: ssim, weight: 3}}
trainer: {{kind: spam, balance_victims: {balance}}}
)",
                                               fmt::arg("dir", dir.path().string()), fmt::arg("names", names), fmt::arg("balance", balance)));
  return load_config(dir / "c.yaml");
}

// The gradient of the objective with respect to the perturbation, as the trainers take it.
torch::Tensor gradient(const Config& c, const data::Batch& batch, const torch::Tensor& delta) {
  Protection protection(c, torch::kCPU);
  auto d = delta.clone().requires_grad_(true);
  const auto value = protection.evaluate(batch, d, 1, false);
  const auto roots = protection.backward_roots(value, 2);  // as with grad_accum 2
  return torch::autograd::grad(roots.outputs, {d}, roots.gradients)[0];
}

TEST(BalanceVictims, RescalesEachVictimsGradientPerImageToTheMeanOverVictims) {
  TempDir dir;
  save_classifier(dir / "a.pt", 1, 0.1);  // small logits: near the uniform, gradients scale with them
  save_classifier(dir / "b.pt", 2, 0.001);  // a victim whose gradients are ~100 times smaller
  data::Batch batch;
  batch.images = 0.2 + 0.6 * torch::rand({3, 3, 16, 16});  // no pixel near a bound: the clamp passes gradients
  batch.labels = torch::full({3}, -1, torch::kLong);
  batch.face_boxes = torch::full({3, 4}, -1.0);
  const auto delta = 0.01 * torch::randn({3, 3, 16, 16});

  // Each victim's gradient alone: with the quality term's, less the quality term's alone.
  auto ssim_only = config(dir, "a", false);
  ssim_only.losses[0].weight = 0;
  const auto quality = gradient(ssim_only, batch, delta);
  const auto a = gradient(config(dir, "a", false), batch, delta) - quality, b = gradient(config(dir, "b", false), batch, delta) - quality;
  auto rms = [](const torch::Tensor& g) { return g.flatten(1).square().mean(1).sqrt().view({-1, 1, 1, 1}); };
  ASSERT_GT((rms(a) / rms(b)).min().item<double>(), 10) << "the victims' gradients differ in scale";

  const double tolerance = 1e-5 * (a.abs().max() + quality.abs().max()).item<double>();  // float32 rounding of the sums
  const auto plain = gradient(config(dir, "a, b", false), batch, delta);
  EXPECT_TRUE(torch::allclose(plain, a + b + quality, 1e-4, tolerance));
  const auto mean = (rms(a) + rms(b)) / 2;
  const auto balanced = gradient(config(dir, "a, b", true), batch, delta);
  EXPECT_TRUE(torch::allclose(balanced, a * (mean / rms(a)) + b * (mean / rms(b)) + quality, 1e-4, tolerance));
  EXPECT_FALSE(torch::allclose(balanced, plain, 1e-2, tolerance));
}

}  // namespace
}  // namespace mf::protection
