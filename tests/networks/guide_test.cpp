// The guide of a guided generator: its victims' normalised input gradients, in C++ and as
// the TorchScript an export runs.
#include "networks/guide.h"
#include "tests/support/files.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

namespace mf::networks {
namespace {

using test::TempDir;

// A small convolutional classifier of 4 classes saved as a TorchScript file.
std::string classifier_file(const TempDir& dir, const std::string& name, uint64_t seed) {
  torch::manual_seed(seed);
  torch::jit::Module m("Classifier");
  m.register_parameter("w", torch::randn({8, 3, 3, 3}), false);
  m.register_parameter("head", torch::randn({4, 8}), false);
  m.define(R"(
def forward(self, x):
  h = torch.relu(torch.conv2d(x, self.w, None, [2, 2], [1, 1]))
  return torch.matmul(h.mean([2, 3]), self.head.t())
)");
  const std::string path = (dir / (name + ".pt")).string();
  m.save(path);
  return path;
}

VictimConfig scripted(const std::string& name, const std::string& path) {
  VictimConfig c;
  c.name = name;
  c.source = "torchscript";
  c.source_options = config::Options::of(TorchscriptSourceOptions{.path = path});
  c.input_size = {16, 16};
  c.mean = {0.5, 0.4, 0.3};
  c.std = {0.2, 0.25, 0.3};
  return c;
}

// What the guide must compute, written out: each victim's gradient of the cross-entropy
// against its own prediction, scaled to a standard deviation of 1/4 per image, averaged.
torch::Tensor by_hand(const std::vector<std::shared_ptr<Victim>>& victims, const torch::Tensor& x) {
  torch::Tensor total = torch::zeros_like(x);
  for (const auto& v : victims) {
    auto xg = x.clone().requires_grad_(true);
    auto logits = v->forward(xg);
    torch::nn::functional::cross_entropy(logits, logits.argmax(1), torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum)).backward();
    auto g = xg.grad();
    total += g / (4 * g.flatten(1).std(1)).view({-1, 1, 1, 1});
  }
  return total / static_cast<double>(victims.size());
}

TEST(Guide, IsTheVictimsNormalisedInputGradientEvenWithoutGradMode) {
  TempDir dir;
  VictimEnsemble victims({scripted("a", classifier_file(dir, "a", 1)), scripted("b", classifier_file(dir, "b", 2))}, torch::kCPU);
  auto guide = make_guide({"a", "b"}, victims);
  auto x = torch::rand({3, 3, 24, 20});
  torch::Tensor got;
  {
    torch::NoGradGuard no_grad;  // as in validation and protection
    got = (*guide)(x);
  }
  EXPECT_FALSE(got.requires_grad());
  EXPECT_EQ(got.sizes(), x.sizes());
  EXPECT_TRUE(torch::allclose(got, by_hand(victims.victims(), x), 1e-4, 1e-6));
  // Each image's map has the scale of one unit-free direction, whatever the victim's.
  EXPECT_GT(got.flatten(1).std(1).min().item<double>(), 0.05);
  EXPECT_EQ(make_guide({}, victims), nullptr);
}

TEST(Guide, ScriptComputesWhatCppComputes) {
  TempDir dir;
  VictimEnsemble victims({scripted("a", classifier_file(dir, "a", 3))}, torch::kCPU);
  auto guide = make_guide({"a"}, victims);
  torch::jit::Module twin("Twin");
  twin.register_module("guide0", torch::jit::load((dir / "a.pt").string()));
  twin.define(guide->script());
  auto x = torch::rand({2, 3, 40, 32});  // resized to the victim's 16 x 16 inside
  auto scripted_map = twin.run_method("guidance", x).toTensor();
  EXPECT_TRUE(torch::allclose(scripted_map, (*guide)(x), 1e-4, 1e-6));
  torch::NoGradGuard no_grad;
  try {
    twin.run_method("guidance", x);
    ADD_FAILURE() << "the script ran without gradients";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("call it with gradients enabled"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mf::networks
