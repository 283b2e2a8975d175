// Victims built in C++: frozen, preprocessing inside the graph, output shapes checked.
#include "networks/ensemble.h"
#include "networks/victim.h"
#include "tests/support/files.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

namespace mf::networks {
namespace {

using test::TempDir;

VictimConfig builtin(const std::string& name, const std::string& kind, const std::string& arch) {
  VictimConfig c;
  c.name = name;
  c.kind = kind;
  c.source = "builtin";
  c.source_options = config::Options::of(BuiltinSourceOptions{.arch = arch, .classes = 5, .dim = 16});
  c.input_size = {24, 24};
  c.mean = {0.5, 0.5, 0.5};
  c.std = {0.25, 0.25, 0.25};
  return c;
}

// A TorchScript file made in C++ from TorchScript source.
std::string script_file(const TempDir& dir, const std::string& name, const std::string& source) {
  torch::jit::Module m("Victim");
  m.register_parameter("scale", torch::ones({1}), false);
  m.define(source);
  const std::string path = (dir / (name + ".pt")).string();
  m.save(path);
  return path;
}

VictimConfig scripted(const std::string& path, const std::string& kind, const std::string& output = "") {
  VictimConfig c;
  c.name = "rn20";
  c.kind = kind;
  c.source = "torchscript";
  c.source_options = config::Options::of(TorchscriptSourceOptions{.path = path, .output = output});
  return c;
}

TEST(Victim, BuiltinIsFrozenAndPassesGradientToTheInput) {
  auto v = build_victim(resolve_victim(builtin("net", "classifier", "tiny_cnn")), torch::kCPU);
  auto x = torch::rand({3, 3, 40, 30}, torch::requires_grad());
  auto logits = v->forward(x);
  EXPECT_EQ(logits.sizes(), (torch::IntArrayRef{3, 5}));
  logits.sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0);
  EXPECT_GT(v->parameter_count(), 0);
}

TEST(Victim, PreprocessingResizesWithAntialiasingThenNormalises) {
  auto v = build_victim(resolve_victim(builtin("net", "embedder", "tiny_embedder")), torch::kCPU);
  auto x = torch::full({1, 3, 48, 48}, 0.75);
  auto p = v->preprocess(x);
  EXPECT_EQ(p.sizes(), (torch::IntArrayRef{1, 3, 24, 24}));
  EXPECT_NEAR(p.mean().item<double>(), 1.0, 1e-5);  // (0.75 - 0.5) / 0.25
}

TEST(Victim, TorchScriptVictimOfEveryKindLoadsAndIsChecked) {
  TempDir dir;
  auto cls = script_file(dir, "cls", "def forward(self, x):\n  return (x * self.scale).mean([2, 3])[:, 0:3]\n");
  auto v = build_victim(resolve_victim(scripted(cls, "classifier")), torch::kCPU);
  auto x = torch::rand({2, 3, 32, 32}, torch::requires_grad());
  v->forward(x).sum().backward();
  EXPECT_TRUE(x.grad().defined());
}

// Victims run a frozen copy (batch norm folded into the convolution); it must compute what
// the module computes, gradient to the image included.
TEST(Victim, FrozenTorchScriptComputesTheModulesOutputAndInputGradient) {
  TempDir dir;
  torch::jit::Module m("Victim");
  m.register_parameter("w", torch::randn({4, 3, 3, 3}), false);
  m.register_buffer("mean", torch::randn({4}));
  m.register_buffer("var", torch::rand({4}) + 0.5);
  m.register_parameter("gamma", torch::randn({4}), false);
  m.register_parameter("beta", torch::randn({4}), false);
  m.define(R"(
def forward(self, x):
  y = torch.conv2d(x, self.w, None, [1, 1], [1, 1])
  y = torch.batch_norm(y, self.gamma, self.beta, self.mean, self.var, False, 0.1, 1e-5, False)
  return torch.relu(y).mean([2, 3])
)");
  const std::string path = (dir / "bn.pt").string();
  m.save(path);
  auto v = build_victim(resolve_victim(scripted(path, "classifier")), torch::kCPU);

  auto module = torch::jit::load(path);
  module.eval();
  auto x = torch::rand({3, 3, 32, 32});
  auto x1 = x.clone().requires_grad_(), x2 = x.clone().requires_grad_();
  auto expected = module.forward({x1}).toTensor();
  auto got = v->forward(x2);
  EXPECT_TRUE(torch::allclose(got, expected, 1e-4, 1e-5));
  expected.pow(2).sum().backward();
  got.pow(2).sum().backward();
  EXPECT_TRUE(torch::allclose(x2.grad(), x1.grad(), 1e-4, 1e-6));
}

// The message build_victim refuses the victim with on the CPU; "" when it builds.
std::string refusal(const VictimConfig& config) {
  try {
    build_victim(resolve_victim(config), torch::kCPU);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Victim, WrongOutputShapeNamesTheVictimAndTheShapes) {
  TempDir dir;
  auto identity = script_file(dir, "id", "def forward(self, x):\n  return x * self.scale\n");
  EXPECT_EQ(refusal(scripted(identity, "classifier")), "victim 'rn20': expected logits [N, C], got [N, 3, 32, 32]");
}

TEST(Victim, AModelThatFailsOnItsInputIsRefusedAtBuildTimeWithTheReason) {
  TempDir dir;
  auto broken = script_file(dir, "broken", "def forward(self, x):\n  return x.view(7, -1) * self.scale\n");
  const std::string what = refusal(scripted(broken, "embedder"));
  EXPECT_EQ(what.rfind("victim 'rn20': the model fails on a batch of 2 x 3 x 32 x 32 on cpu: ", 0), 0u) << what;
  EXPECT_NE(what.find("[7, -1]"), std::string::npos) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
}

TEST(Victim, AModelGradientsCannotPassIsRefusedAtBuildTime) {
  TempDir dir;
  auto cut = script_file(dir, "cut", "def forward(self, x):\n  return x.detach().mean([2, 3]) * self.scale\n");
  const std::string what = refusal(scripted(cut, "embedder"));
  EXPECT_NE(what.find("victim 'rn20': gradients cannot flow back to the image"), std::string::npos) << what;
}

TEST(Victim, TupleAndDictOutputsNeedASelection) {
  TempDir dir;
  auto tuple = script_file(dir, "tuple", "def forward(self, x):\n  f = x.mean([2, 3])\n  return (x, f)\n");
  EXPECT_THROW(build_victim(resolve_victim(scripted(tuple, "embedder")), torch::kCPU), InputError);
  auto v = build_victim(resolve_victim(scripted(tuple, "embedder", "1")), torch::kCPU);
  EXPECT_EQ(v->forward(torch::rand({4, 3, 8, 8})).sizes(), (torch::IntArrayRef{4, 3}));
  auto dict = script_file(dir, "dict", "def forward(self, x):\n  return {'embedding': x.mean([2, 3]), 'map': x}\n");
  const std::string what = refusal(scripted(dict, "embedder", "emb"));
  EXPECT_NE(what.find("one of its keys: embedding, map"), std::string::npos) << what;
  EXPECT_NO_THROW(build_victim(resolve_victim(scripted(dict, "embedder", "embedding")), torch::kCPU));
}

TEST(Victim, MissingOrBrokenFilesAreBadInput) {
  TempDir dir;
  EXPECT_THROW(build_victim(resolve_victim(scripted((dir / "none.pt").string(), "classifier")), torch::kCPU), InputError);
  test::write_file(dir / "junk.pt", "not a model");
  EXPECT_THROW(build_victim(resolve_victim(scripted((dir / "junk.pt").string(), "classifier")), torch::kCPU), InputError);
}

TEST(Victim, SidecarFillsSizeAndNormalisationAndGuardsTheKind) {
  TempDir dir;
  auto path = script_file(dir, "m", "def forward(self, x):\n  return x.mean([2, 3]) * self.scale\n");
  test::write_file(dir / "m.json", R"({"kind": "embedder", "input_size": [20, 10], "mean": [0.1, 0.2, 0.3], "std": [1, 2, 3]})");
  auto c = resolve_victim(scripted(path, "embedder"));
  EXPECT_EQ(c.input_size, (std::vector<int64_t>{20, 10}));
  EXPECT_EQ(c.std, (std::vector<double>{1, 2, 3}));
  EXPECT_THROW(resolve_victim(scripted(path, "classifier")), InputError);
}

TEST(VictimEnsemble, SummaryListsEveryVictim) {
  VictimEnsemble e({builtin("net", "classifier", "tiny_cnn"), builtin("face", "embedder", "tiny_embedder")}, torch::kCPU);
  const std::string s = e.summary();
  EXPECT_NE(s.find("victim  kind"), std::string::npos) << s;
  EXPECT_NE(s.find("face    embedder    24x24"), std::string::npos) << s;
  EXPECT_THROW(e.at("nope"), InputError);
}

}  // namespace
}  // namespace mf::networks
