// The guide of a guided generator: its victims' normalised input gradients, in C++ and as
// the TorchScript an export runs.
#include "core/error.h"
#include "data/image_io.h"
#include "data/jpeg.h"
#include "data/random.h"
#include "networks/guide.h"
#include "tests/support/files.h"
#include "tests/support/images.h"
#include "tests/support/python.h"
#include "tests/support/victims.h"

#include <fmt/format.h>
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

// The support's box-scoring detector (write_box_scoring_detector).
std::string detector_file(const TempDir& dir) {
  const std::string path = (dir / "det.pt").string();
  test::write_box_scoring_detector(path);
  return path;
}

VictimConfig scripted(const std::string& name, const std::string& path, const std::string& kind = "classifier") {
  VictimConfig c;
  c.name = name;
  c.kind = kind;
  c.source = "torchscript";
  c.source_options = config::Options::of(TorchscriptSourceOptions{.path = path});
  c.input_size = {16, 16};
  c.mean = {0.5, 0.4, 0.3};
  c.std = {0.2, 0.25, 0.3};
  return c;
}

// What the guide must compute, written out: each victim's gradient of its own loss (a
// classifier's -log of the summed probability of `classes` [N, k], its `top_k` highest where
// not given, each probability times exp(`log_weights`) where given; a detector's
// -log(1 - score) over its boxes), scaled to a standard deviation of 1/4 per image, averaged;
// taken at `seen` of the image, which is the image itself unless given.
using View = std::function<torch::Tensor(const torch::Tensor&)>;
torch::Tensor by_hand(const std::vector<std::shared_ptr<Victim>>& victims, const torch::Tensor& x, const std::vector<torch::Tensor>& classes = {},
                      int64_t top_k = 1, const std::vector<torch::Tensor>& log_weights = {}, const View& seen = {}) {
  torch::Tensor total = torch::zeros_like(x);
  for (size_t i = 0; i < victims.size(); ++i) {
    const auto& v = victims[i];
    auto xg = x.clone().requires_grad_(true);
    auto out = v->forward(seen ? seen(xg) : xg);
    if (v->kind() == VictimKind::classifier) {
      const torch::Tensor away = classes.empty() ? std::get<1>(out.topk(top_k, 1)) : classes[i];
      // log of the summed probabilities, from log-probabilities (the logits are large)
      auto log_p = out.log_softmax(1).gather(1, away);
      if (!log_weights.empty()) log_p = log_p + log_weights[i];
      (-log_p.logsumexp(1)).sum().backward();
    } else {
      (-torch::log(1 - out.select(2, 4))).sum().backward();
    }
    auto g = xg.grad();
    total += g / (4 * g.flatten(1).std(1)).view({-1, 1, 1, 1});
  }
  return total / static_cast<double>(victims.size());
}

// A guide's two kinds of victim: classifier "a" (4 classes, weights drawn with `seed`) and
// detector "d".
VictimEnsemble classifier_and_detector(const TempDir& dir, uint64_t seed) {
  return VictimEnsemble({scripted("a", classifier_file(dir, "a", seed)), scripted("d", detector_file(dir), "detector")}, torch::kCPU);
}

// The classes an entry of the guide's `away` moves away from: where its log-weight is finite.
torch::Tensor away_set(const torch::Tensor& away) { return away.isfinite(); }

torch::Tensor one_hot_set(const torch::Tensor& classes, int64_t num_classes) {
  return torch::zeros({classes.size(0), num_classes}, torch::kBool).scatter(1, classes, true);
}

// The map against the hand-written one: float32 rounding of a confident classifier's tiny
// gradient, scaled up to a standard deviation of 1/4, differs by up to ~2e-5 between two
// ways of writing the same loss.
constexpr double kMapTolerance = 1e-4;

TEST(Guide, IsEachVictimsNormalisedInputGradientEvenWithoutGradMode) {
  TempDir dir;
  VictimEnsemble victims({scripted("a", classifier_file(dir, "a", 1)), scripted("b", classifier_file(dir, "b", 2)), scripted("d", detector_file(dir), "detector")},
                         torch::kCPU);
  auto guide = make_guide({"a", "b", "d"}, victims, {});
  auto x = torch::rand({3, 3, 24, 20});
  torch::Tensor got;
  {
    torch::NoGradGuard no_grad;  // as in validation and protection
    std::vector<torch::Tensor> classes;
    got = (*guide)(x, classes);
  }
  EXPECT_FALSE(got.requires_grad());
  EXPECT_EQ(got.sizes(), x.sizes());
  EXPECT_TRUE(torch::allclose(got, by_hand(victims.victims(), x), 1e-4, kMapTolerance));
  // Each image's map has the scale of one unit-free direction, whatever the victim's.
  EXPECT_GT(got.flatten(1).std(1).min().item<double>(), 0.05);
  EXPECT_EQ(make_guide({}, victims, {}), nullptr);
}

// With guide_top_k 2 each classifier's gradient moves away from its two highest classes at
// once, and those are the classes the passes keep.
TEST(Guide, MovesAwayFromTheTopClassesTogether) {
  TempDir dir;
  VictimEnsemble victims = classifier_and_detector(dir, 6);
  auto guide = make_guide({"a", "d"}, victims, {.top_k = 2});
  auto x = torch::rand({4, 3, 16, 16});
  std::vector<torch::Tensor> away;
  auto got = (*guide)(x, away);
  EXPECT_TRUE(torch::allclose(got, by_hand(victims.victims(), x, {}, 2), 1e-4, kMapTolerance));
  EXPECT_FALSE(torch::allclose(got, by_hand(victims.victims(), x), 1e-4, kMapTolerance));
  EXPECT_TRUE(torch::equal(away_set(away[0]), one_hot_set(std::get<1>(victims.at("a")->forward(x).topk(2, 1)), 4)));
  std::vector<torch::Tensor> none;
  EXPECT_THROW((*make_guide({"a"}, victims, {.top_k = 5}))(x, none), std::exception);  // the classifier has 4 classes
}

// guide_top_k_weights clean: each of the top classes counts with its clean probability.
TEST(Guide, WeighsTheTopClassesByTheirCleanProbability) {
  TempDir dir;
  VictimEnsemble victims = classifier_and_detector(dir, 6);
  auto guide = make_guide({"a", "d"}, victims, {.top_k = 3, .by_clean_probability = true});
  auto x = torch::rand({4, 3, 16, 16});
  std::vector<torch::Tensor> away;
  auto got = (*guide)(x, away);
  torch::Tensor top, clean_log_p;
  {
    torch::NoGradGuard no_grad;
    auto out = victims.at("a")->forward(x);
    top = std::get<1>(out.topk(3, 1));
    clean_log_p = out.log_softmax(1).gather(1, top);
  }
  EXPECT_TRUE(torch::allclose(got, by_hand(victims.victims(), x, {top, {}}, 3, {clean_log_p, {}}), 1e-4, kMapTolerance));
  EXPECT_FALSE(torch::allclose(got, by_hand(victims.victims(), x, {}, 3), 1e-4, kMapTolerance));
  EXPECT_TRUE(torch::allclose(away[0].gather(1, top), clean_log_p, 1e-5, 1e-6));
  EXPECT_FALSE(away[0].requires_grad());
}

// generator.guide_jpeg: a second map, each victim's gradient taken through the
// differentiable JPEG, away from the classes found at the image itself.
TEST(Guide, AddsTheGradientThroughJpegAsASecondMap) {
  TempDir dir;
  VictimEnsemble victims = classifier_and_detector(dir, 7);
  auto x = torch::rand({3, 3, 20, 24});  // not a multiple of JPEG's 16 x 16 blocks
  std::vector<torch::Tensor> away, plain_away;
  auto guide = make_guide({"a", "d"}, victims, {.top_k = 2, .by_clean_probability = true, .jpeg_quality = 60});
  auto got = (*guide)(x, away);
  ASSERT_EQ(got.sizes(), (torch::IntArrayRef{3, 6, 20, 24}));
  EXPECT_TRUE(torch::equal(got.slice(1, 0, 3), (*make_guide({"a", "d"}, victims, {.top_k = 2, .by_clean_probability = true}))(x, plain_away)));
  EXPECT_TRUE(torch::equal(away[0], plain_away[0]));
  const auto top = std::get<1>(away[0].topk(2, 1));  // the clean top two, by their clean log-probabilities
  auto through_jpeg = by_hand(victims.victims(), x, {top, {}}, 2, {away[0].gather(1, top), {}}, [](const torch::Tensor& v) { return data::jpeg_approx(v, 60); });
  EXPECT_TRUE(torch::allclose(got.slice(1, 3), through_jpeg, 1e-4, kMapTolerance));
  EXPECT_FALSE(torch::allclose(got.slice(1, 3), got.slice(1, 0, 3), 1e-2, 1e-2));
}

// The passes of a guided generator (generator.guide_steps) move away from the classes the
// first pass found, not from what the protected image already shows.
TEST(Guide, KeepsTheClassesOfItsFirstCall) {
  TempDir dir;
  VictimEnsemble victims = classifier_and_detector(dir, 5);
  auto guide = make_guide({"a", "d"}, victims, {});
  auto x = torch::rand({4, 3, 16, 16}), seen = torch::rand({4, 3, 16, 16});
  std::vector<torch::Tensor> away;
  EXPECT_TRUE(torch::allclose((*guide)(x, away), by_hand(victims.victims(), x), 1e-4, kMapTolerance));
  ASSERT_EQ(away.size(), 2u);
  const auto found = victims.at("a")->forward(x).argmax(1, true);
  EXPECT_TRUE(torch::equal(away_set(away[0]), one_hot_set(found, 4)));
  EXPECT_FALSE(away[1].defined());  // a detector's loss has no class
  const auto other = (found + 1) % 4;  // not the prediction at `seen`, whatever it is
  away[0] = away_from_class(other.squeeze(1), 4);
  EXPECT_TRUE(torch::allclose((*guide)(seen, away), by_hand(victims.victims(), seen, {other, {}}), 1e-4, kMapTolerance));
  EXPECT_FALSE(torch::allclose((*guide)(seen, away), by_hand(victims.victims(), seen), 1e-4, kMapTolerance));
  EXPECT_TRUE(torch::equal(away_set(away[0]), one_hot_set(other, 4)));
}

// generator.guide_crops: a detector's gradient is that of boxes_around its best box in the
// clean image, with the guide's fixed draws (data::Rng(0)). The face is kept in `away`, so
// that a later pass scores the same boxes, not those around what it sees.
TEST(Guide, WithCropsScoresFixedBoxesAroundTheCleanFace) {
  TempDir dir;
  VictimEnsemble victims = classifier_and_detector(dir, 5);
  const auto& d = victims.at("d");
  auto guide = make_guide({"d"}, victims, {.crops = 6});
  torch::manual_seed(8);
  auto x = torch::rand({2, 3, 40, 32}), seen = torch::rand({2, 3, 40, 32});
  std::vector<torch::Tensor> away;
  const torch::Tensor got = (*guide)(x, away);
  torch::Tensor face;
  {
    torch::NoGradGuard no_grad;
    face = best_box(d->forward(x)).slice(1, 0, 4);
  }
  ASSERT_EQ(away.size(), 1u);
  EXPECT_TRUE(torch::equal(away[0], face));
  data::Rng rng(0);
  std::vector<float> draws(18);
  for (float& u : draws) u = static_cast<float>(rng.uniform());
  const auto boxes = boxes_around(face, torch::tensor(draws).view({1, 6, 3}));
  auto by_hand = [&](const torch::Tensor& at) {
    auto xg = at.clone().requires_grad_(true);
    no_face_loss(d->score_boxes(xg, boxes)).sum().backward();
    auto g = xg.grad();
    return g / (4 * g.flatten(1).std(1)).view({-1, 1, 1, 1});
  };
  EXPECT_TRUE(torch::allclose(got, by_hand(x), 1e-4, kMapTolerance));
  EXPECT_TRUE(torch::allclose((*guide)(seen, away), by_hand(seen), 1e-4, kMapTolerance));
  EXPECT_TRUE(torch::equal(away[0], face));
}

TEST(Guide, WithCropsRefusesADetectorThatCannotScoreBoxes) {
  TempDir dir;
  torch::jit::Module m("Detector");
  m.define(R"(
def forward(self, x):
  return torch.sigmoid(x.mean([1, 2, 3])).view(-1, 1, 1).expand(-1, 2, 5)
)");
  m.save((dir / "plain.pt").string());
  VictimEnsemble victims({scripted("plain", (dir / "plain.pt").string(), "detector")}, torch::kCPU);
  try {
    make_guide({"plain"}, victims, {.crops = 4});
    ADD_FAILURE() << "a detector without score_boxes was taken";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("guide victim 'plain' has no score_boxes method"), std::string::npos) << e.what();
  }
}

// On the real cascade (tools/export_victim.py mtcnn, real weights): one signed step of 4/255
// down the crops guide's map lowers O-Net around a real face (its -log(1 - p), as sure as
// p = 0.998 before), on boxes the guide never scored; and the script an export carries
// computes the same map, in two passes.
TEST(Guide, WithCropsOnTheRealCascadeLowersONetAroundTheFaceAndItsScriptAgrees) {
  const std::filesystem::path assets = test::assets_dir();
  if (assets.empty() || test::python().empty()) GTEST_SKIP() << "needs ../shared/assets and the Python virtualenv";
  VictimConfig c = scripted("mtcnn", test::exported_victim("mtcnn", "--weights " + (assets / "weights").string()).string(), "detector");
  c.input_size = {};  // the export's own (its sidecar's)
  c.mean = c.std = {};
  VictimEnsemble victims({resolve_victim(c)}, torch::kCPU);
  const auto& cascade = victims.at("mtcnn");
  auto guide = make_guide({"mtcnn"}, victims, {.crops = 16});
  auto x = data::to_tensor(data::read_image(assets / "faces" / "lfw_subset" / "Tony_Blair" / "Tony_Blair_0001.jpg")).unsqueeze(0);
  std::vector<torch::Tensor> away;
  const torch::Tensor map = (*guide)(x, away);
  const torch::Tensor stepped = (x - 4.0 / 255 * map.sign()).clamp(0, 1);
  torch::NoGradGuard no_grad;
  data::Rng rng(99);  // other boxes around the same face
  std::vector<float> draws(60);
  for (float& u : draws) u = static_cast<float>(rng.uniform());
  const auto boxes = boxes_around(away[0], torch::tensor(draws).view({1, 20, 3}));
  auto loss = [&](const torch::Tensor& image) { return no_face_loss(cascade->score_boxes(image, boxes)).mean().item<double>(); };
  const double before = loss(x), after = loss(stepped);
  EXPECT_GT(before, 3.0);
  EXPECT_LT(after, before - 1.0) << "O-Net's -log(1 - p) around the face: " << before << " before the step, " << after << " after";

  torch::jit::Module twin("Twin");
  twin.register_module("guide0", cascade->script()->clone());
  twin.define(guide->script());
  at::AutoGradMode grad(true);
  c10::List<torch::Tensor> scripted_away;
  EXPECT_TRUE(torch::allclose(twin.run_method("guidance", x, scripted_away).toTensor(), map, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(twin.run_method("guidance", stepped, scripted_away).toTensor(), (*guide)(stepped, away), 1e-4, 1e-5));
}

// An mllm guide's map is the normalised input gradient of its refusal cross-entropy (its
// first target after its first prompt), and the script an export carries computes it too.
TEST(Guide, OfAnMllmIsItsRefusalGradientAndItsScriptComputesIt) {
  if (test::python().empty()) GTEST_SKIP() << "needs the Python virtualenv";
  TempDir dir;
  test::write_file(dir / "tokens.json", R"({"prompts": [[11, 12, 13], [14, 15]], "targets": [[40, 41, 42, 43], [44, 45]]})");
  VictimConfig c = scripted("vlm", test::exported_victim("llava:tiny", "--random-init").string(), "mllm");
  c.kind_options = config::Options::of(MllmKindOptions{.tokens = (dir / "tokens.json").string()});
  c.input_size = {};  // the exported model's own (its sidecar's)
  VictimEnsemble victims({resolve_victim(c)}, torch::kCPU);
  auto guide = make_guide({"vlm"}, victims, {});
  torch::manual_seed(3);
  auto x = torch::rand({2, 3, 40, 32});
  std::vector<torch::Tensor> away;
  const torch::Tensor got = (*guide)(x, away);
  ASSERT_EQ(away.size(), 1u);
  EXPECT_EQ(away[0].numel(), 0);  // nothing to move away from
  // By hand: positions 2 to 5 of prompt + target predict the target's four tokens.
  auto xg = x.clone().requires_grad_(true);
  const auto ids = torch::tensor({11, 12, 13, 40, 41, 42, 43}, torch::kLong).unsqueeze(0).expand({2, -1}).contiguous();
  const auto log_p = victims.at("vlm")->forward(xg, ids).slice(1, 2, 6).log_softmax(2).gather(2, ids.slice(1, 3, 7).unsqueeze(2));
  (-log_p.sum()).backward();
  const auto g = xg.grad();
  EXPECT_TRUE(torch::allclose(got, g / (4 * g.flatten(1).std(1)).view({-1, 1, 1, 1}), 1e-4, kMapTolerance));
  torch::jit::Module twin("Twin");
  twin.register_module("guide0", victims.at("vlm")->script()->clone());
  twin.define(guide->script());
  c10::List<torch::Tensor> scripted_away;
  // The interpreter rounds the transformer's sums in another order than eager C++: up to
  // 5e-6 apart over 12 random images, on maps of values up to 2.7.
  EXPECT_TRUE(torch::allclose(twin.run_method("guidance", x, scripted_away).toTensor(), got, 1e-4, 3e-5));
  EXPECT_EQ(scripted_away.size(), 1u);
}

// The script an export carries computes the C++ guide's map and class weights, for top_k 1
// and 2 with equal weights, top_k 2 weighed by the clean probabilities, and with the map
// through JPEG.
struct TopK {
  int64_t k;
  bool by_clean_probability;
  double jpeg = 0;
  int64_t crops = 0;
};

class GuideScript : public ::testing::TestWithParam<TopK> {};

TEST_P(GuideScript, ComputesWhatCppComputes) {
  TempDir dir;
  VictimEnsemble victims = classifier_and_detector(dir, 3);
  const TopK& p = GetParam();
  auto guide = make_guide({"a", "d"}, victims, {.top_k = p.k, .by_clean_probability = p.by_clean_probability, .jpeg_quality = p.jpeg, .crops = p.crops});
  torch::jit::Module twin("Twin");
  // What an export carries: the networks the guide's victims run.
  twin.register_module("guide0", victims.at("a")->script()->clone());
  twin.register_module("guide1", victims.at("d")->script()->clone());
  twin.define(guide->script());
  auto x = torch::rand({2, 3, 40, 32});  // resized to the victim's 16 x 16 inside
  c10::List<torch::Tensor> scripted_away;
  std::vector<torch::Tensor> away;
  auto scripted_map = twin.run_method("guidance", x, scripted_away).toTensor();
  EXPECT_TRUE(torch::allclose(scripted_map, (*guide)(x, away), 1e-4, 1e-6));
  ASSERT_EQ(scripted_away.size(), 2u);
  EXPECT_TRUE(torch::allclose(scripted_away.get(0), away[0], 1e-5, 1e-6, /*equal_nan=*/false));
  if (p.crops > 0) {
    EXPECT_TRUE(torch::allclose(scripted_away.get(1), away[1]));  // the clean face
  }
  // Given class weights, the script moves away from them too.
  auto seen = torch::rand({2, 3, 40, 32});
  EXPECT_TRUE(torch::allclose(twin.run_method("guidance", seen, scripted_away).toTensor(), (*guide)(seen, away), 1e-4, 1e-6));
  torch::NoGradGuard no_grad;
  try {
    twin.run_method("guidance", x, c10::List<torch::Tensor>());
    ADD_FAILURE() << "the script ran without gradients";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("call it with gradients enabled"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(TopK, GuideScript, ::testing::Values(TopK{1, false}, TopK{2, false}, TopK{2, true}, TopK{2, true, 75}, TopK{1, false, 0, 5}),
                         [](const auto& info) {
                           return fmt::format("top{}{}{}{}", info.param.k, info.param.by_clean_probability ? "_clean" : "", info.param.jpeg > 0 ? "_jpeg" : "",
                                              info.param.crops > 0 ? "_crops" : "");
                         });

}  // namespace
}  // namespace mf::networks
