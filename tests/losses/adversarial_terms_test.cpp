// Each adversarial term, minimised for a few hundred steps over one image's perturbation
// against a small victim, moves its metric the intended way.
// The objective that sums the terms keeps each listed term's metrics apart.
#include "data/image_io.h"
#include "core/config/config.h"
#include "core/error.h"
#include "losses/objective.h"
#include "losses/term.h"
#include "networks/ensemble.h"
#include "tests/support/files.h"
#include "tests/support/images.h"
#include "tests/support/python.h"
#include "tests/support/victims.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mf::losses {
namespace {

namespace fs = std::filesystem;
using networks::VictimConfig;

VictimConfig builtin(const std::string& name, const std::string& kind, const std::string& arch) {
  VictimConfig c;
  c.name = name;
  c.kind = kind;
  c.source_options = config::Options::of(networks::BuiltinSourceOptions{.arch = arch, .classes = 10, .dim = 32});
  return c;
}

VictimConfig exported(const std::string& name, const std::string& kind, const fs::path& file) {
  VictimConfig c;
  c.name = name;
  c.kind = kind;
  c.source = "torchscript";
  c.source_options = config::Options::of(networks::TorchscriptSourceOptions{.path = file.string()});
  return c;
}

// A loss element as a config file would write it, e.g. "{name: targeted_ce, target_class: 3}".
LossConfig term(const std::string& yaml) {
  YAML::Node node = YAML::Load(yaml.starts_with("{") ? yaml : "{name: " + yaml + "}");
  config::Source source{"test", {}};
  config::Reader reader(node, "", source);
  LossConfig c;
  c.visit(reader);
  reader.finish();
  return c;
}

struct Before {
  Metrics first, last;
  torch::Tensor delta;  // the final perturbation
};

// Minimises the term over delta = eps * tanh(w) with Adam; returns the first and last metrics.
Before optimise(const LossConfig& config, const networks::VictimEnsemble& victims, const torch::Tensor& x, double eps, int steps,
                torch::Tensor face_boxes = {}, double lr = 0.05) {
  auto t = loss_terms().at(config.name).build.make(config, victims);
  if (!face_boxes.defined()) face_boxes = torch::full({x.size(0), 4}, -1.0);
  auto labels = torch::full({x.size(0)}, -1, torch::kLong);
  // A small random start: at delta = 0 some terms sit at a stationary point (the cosine to
  // the clean embedding is at its maximum there). Seeded: LibTorch's default seed is random.
  torch::manual_seed(0);
  auto w = (torch::randn_like(x) * 0.1).requires_grad_();
  torch::optim::Adam adam({w}, torch::optim::AdamOptions(lr));
  Before result;
  for (int step = 0; step <= steps; ++step) {
    StepContext ctx(victims, x, eps * torch::tanh(w), {}, labels, face_boxes, static_cast<uint64_t>(step));
    result.delta = ctx.delta().detach();
    StepMetrics step_metrics;
    auto loss = t->compute(ctx, step_metrics);
    const Metrics m = values(step_metrics);
    if (step == 0) result.first = m;
    result.last = m;
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  return result;
}

torch::Tensor images(int n, int size = 32) {
  std::vector<torch::Tensor> v;
  for (int i = 0; i < n; ++i) v.push_back(data::to_tensor(test::picture(size, size, 10 + i)));
  return torch::stack(v);
}

// The smallest lead, over the images, of the best other class over the clean prediction on
// the protected images: above 0 means every image is misclassified, by that many logits.
double smallest_lead_away(networks::VictimEnsemble& victims, const torch::Tensor& x, const torch::Tensor& delta) {
  torch::NoGradGuard no_grad;
  auto& net = *victims.at("net");
  auto clean = net.forward(x).argmax(1, true);
  auto logits = net.forward((x + delta).clamp(0, 1));
  return (logits.scatter(1, clean, -1e9).amax(1) - logits.gather(1, clean).squeeze(1)).min().item<double>();
}

TEST(AdversarialTerms, ClassifierTermsFoolASmallClassifier) {
  torch::manual_seed(0);
  VictimConfig net = builtin("net", "classifier", "tiny_cnn");
  net.source_options = config::Options::of(networks::BuiltinSourceOptions{.checkpoint = test::trained_tiny_cnn().string(), .classes = 4});
  networks::VictimEnsemble victims({net}, torch::kCPU);
  auto x = images(4);
  auto u = optimise(term("untargeted_ce"), victims, x, 8.0 / 255, 150);
  EXPECT_EQ(u.first["untargeted_ce/net/fooling_rate"], 0);
  EXPECT_EQ(u.last["untargeted_ce/net/fooling_rate"], 1);
  auto t = optimise(term("{name: targeted_ce, target_class: 3}"), victims, x, 16.0 / 255, 200);
  EXPECT_LT(t.first["targeted_ce/net/target_rate"], 1);
  EXPECT_EQ(t.last["targeted_ce/net/target_rate"], 1);
  // With kappa 0 the margin would stop at the decision boundary, where rounding decides.
  auto cw = optimise(term("{name: cw_margin, kappa: 3}"), victims, x, 8.0 / 255, 150);
  EXPECT_EQ(cw.last["cw_margin/net/fooling_rate"], 1);
  auto r = optimise(term("relativistic_ce"), victims, x, 8.0 / 255, 150);
  EXPECT_EQ(r.first["relativistic_ce/net/fooling_rate"], 0);
  EXPECT_EQ(r.last["relativistic_ce/net/fooling_rate"], 1);
  std::printf("smallest lead of a wrong class: untargeted_ce %.2f, cw_margin %.2f, relativistic_ce %.2f logits\n",
              smallest_lead_away(victims, x, u.delta), smallest_lead_away(victims, x, cw.delta), smallest_lead_away(victims, x, r.delta));
  auto e = optimise(term("entropy"), victims, x, 8.0 / 255, 150);
  EXPECT_GT(e.last["entropy/net/normalised_entropy"], e.first["entropy/net/normalised_entropy"] + 0.15);
}

// A term listed twice (here untargeted_ce on each of two victims) reports the second under
// "<name>.2": neither overwrites the other's metrics, and the objective sums both.
TEST(Objective, ATermListedTwiceReportsUnderItsOwnName) {
  torch::manual_seed(0);
  networks::VictimEnsemble victims({builtin("a", "classifier", "tiny_cnn"), builtin("b", "classifier", "tiny_cnn")}, torch::kCPU);
  Objective objective({term("{name: untargeted_ce, victims: [a]}"), term("{name: untargeted_ce, victims: [b], weight: 2}")}, victims);
  auto x = images(2);
  StepContext ctx(victims, x, torch::zeros_like(x), {}, torch::full({2}, -1, torch::kLong), torch::full({2, 4}, -1.0), 0);
  const Metrics m = values(objective.compute(ctx).metrics);
  EXPECT_TRUE(m.contains("untargeted_ce/a/fooling_rate"));
  EXPECT_TRUE(m.contains("untargeted_ce.2/b/fooling_rate"));
  EXPECT_FALSE(m.contains("untargeted_ce/b/fooling_rate"));
  EXPECT_NE(m.at("untargeted_ce/loss"), m.at("untargeted_ce.2/loss"));
  EXPECT_NEAR(m.at("loss/adversarial"), m.at("untargeted_ce/loss") + 2 * m.at("untargeted_ce.2/loss"), 1e-5);
}

// What the untargeted_ce checks below share: the trained 4-class tiny CNN, four images and a
// fixed random perturbation of up to 16/255, at which the term is computed once and then by
// hand.
struct UntargetedCeStep {
  networks::VictimEnsemble victims{{trained_net()}, torch::kCPU};
  torch::Tensor x = images(4), delta;
  double loss = 0;
  Metrics metrics;

  // Computes the term `yaml` at x + delta with `labels` (-1: unknown).
  UntargetedCeStep(const std::string& yaml, const torch::Tensor& labels) {
    torch::manual_seed(1);
    delta = (torch::rand_like(x) * 2 - 1) * (16.0 / 255);
    StepContext ctx(victims, x, delta, {}, labels, torch::full({x.size(0), 4}, -1.0), 0);
    StepMetrics m;
    loss = loss_terms().at("untargeted_ce").build.make(term(yaml), victims)->compute(ctx, m).item<double>();
    metrics = values(m);
  }
  // The victim's logits at the clean and at the protected images.
  torch::Tensor clean() const { return logits(x); }
  torch::Tensor adversarial() const { return logits((x + delta).clamp(0, 1)); }

 private:
  static VictimConfig trained_net() {
    VictimConfig net = builtin("net", "classifier", "tiny_cnn");
    net.source_options = config::Options::of(networks::BuiltinSourceOptions{.checkpoint = test::trained_tiny_cnn().string(), .classes = 4});
    return net;
  }
  torch::Tensor logits(const torch::Tensor& images) const {
    torch::NoGradGuard no_grad;
    return victims.at("net")->forward(images);
  }
};

torch::Tensor unknown_labels(int64_t n) { return torch::full({n}, -1, torch::kLong); }

// untargeted_ce with top_k: -log of the summed probability of the clean image's k highest
// classes, capped; an image counts as fooled when its class is none of them.
TEST(AdversarialTerms, UntargetedCeMovesAwayFromTheTopClassesTogether) {
  UntargetedCeStep step("{name: untargeted_ce, top_k: 2, cap: 1.5}", unknown_labels(4));
  auto top2 = std::get<1>(step.clean().topk(2, 1));
  auto adversarial = step.adversarial();
  auto by_hand = -(-torch::log(adversarial.softmax(1).gather(1, top2).sum(1))).clamp_max(1.5).mean();
  EXPECT_NEAR(step.loss, by_hand.item<double>(), 1e-5);
  auto outside = adversarial.argmax(1, true).ne(top2).all(1).to(torch::kFloat).mean();
  EXPECT_NEAR(step.metrics.at("untargeted_ce/net/fooling_rate"), outside.item<double>(), 1e-6);
  // Minimised, it moves every image out of its clean top two.
  EXPECT_EQ(optimise(term("{name: untargeted_ce, top_k: 2}"), step.victims, step.x, 8.0 / 255, 150).last["untargeted_ce/net/fooling_rate"], 1);
}

// against: label: cross-entropy away from each image's label, or from its clean prediction
// where the label is unknown (-1); fooled means the class is no longer that one.
TEST(AdversarialTerms, UntargetedCeAgainstLabelsFallsBackToThePrediction) {
  auto labels = torch::tensor({2, -1, 0, -1}, torch::kLong);
  UntargetedCeStep step("{name: untargeted_ce, against: label, cap: 3}", labels);
  auto away = torch::where(labels >= 0, labels, step.clean().argmax(1));
  auto adversarial = step.adversarial();
  auto by_hand = -torch::nn::functional::cross_entropy(adversarial, away, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
                      .clamp_max(3)
                      .mean();
  EXPECT_NEAR(step.loss, by_hand.item<double>(), 1e-5);
  EXPECT_NEAR(step.metrics.at("untargeted_ce/net/fooling_rate"), adversarial.argmax(1).ne(away).to(torch::kFloat).mean().item<double>(), 1e-6);
}

// top_k_weights clean: each of the top classes counts with its clean probability,
// -log sum_k p_clean(k) p(k); fooled still means out of the top k.
TEST(AdversarialTerms, UntargetedCeWeighsTheTopClassesByTheirCleanProbability) {
  UntargetedCeStep step("{name: untargeted_ce, top_k: 2, top_k_weights: clean, cap: 3}", unknown_labels(4));
  auto clean = step.clean().softmax(1);
  auto top2 = std::get<1>(clean.topk(2, 1));
  auto adversarial = step.adversarial().softmax(1);
  auto by_hand = -(-torch::log((clean.gather(1, top2) * adversarial.gather(1, top2)).sum(1))).clamp_max(3).mean();
  EXPECT_NEAR(step.loss, by_hand.item<double>(), 1e-5);
  EXPECT_NEAR(step.metrics.at("untargeted_ce/net/fooling_rate"), adversarial.argmax(1, true).ne(top2).all(1).to(torch::kFloat).mean().item<double>(), 1e-6);
}

TEST(AdversarialTerms, EmbeddingTermsMoveTheEmbedding) {
  torch::manual_seed(0);
  // The trained classifier's logit vector serves as a small embedding that tells images apart.
  VictimConfig face = builtin("face", "embedder", "tiny_cnn");
  face.source_options = config::Options::of(networks::BuiltinSourceOptions{.checkpoint = test::trained_tiny_cnn().string(), .classes = 4});
  networks::VictimEnsemble victims({face}, torch::kCPU);
  auto x = images(2);
  auto dodge = optimise(term("embedding_dodge"), victims, x, 8.0 / 255, 150);
  EXPECT_LT(dodge.first["embedding_dodge/face/cosine_distance"], 1e-3);
  EXPECT_GT(dodge.last["embedding_dodge/face/cosine_distance"], 0.3);
  auto far = optimise(term("feature_distance"), victims, x, 8.0 / 255, 150);
  EXPECT_LT(far.first["feature_distance/face/relative_distance"], 0.1);
  EXPECT_GT(far.last["feature_distance/face/relative_distance"], 0.5);
  std::printf("feature_distance: relative distance %.3f -> %.3f\n", far.first["feature_distance/face/relative_distance"],
              far.last["feature_distance/face/relative_distance"]);

  test::TempDir dir;
  test::write_picture(dir / "target" / "a.png", test::picture(32, 32, 99));
  auto i = optimise(term("{name: embedding_impersonate, target: " + (dir / "target").string() + "}"), victims, x, 16.0 / 255, 200);
  EXPECT_LT(i.first["embedding_impersonate/face/cosine_to_target"], 0.95);
  EXPECT_GT(i.last["embedding_impersonate/face/cosine_to_target"], 0.99);

  auto c = optimise(term("collapse"), victims, x, 16.0 / 255, 200);
  EXPECT_GT(c.last["collapse/face/cosine_to_fixed"], c.first["collapse/face/cosine_to_fixed"] + 0.2);
  auto ex = optimise(term("exploding"), victims, x, 8.0 / 255, 100);
  EXPECT_GT(ex.last["exploding/face/norm_ratio"], 1.5);
}

TEST(AdversarialTerms, DetectionSuppressHidesARealFaceFromMtcnn) {
  const fs::path assets = test::assets_dir();
  if (assets.empty() || test::python().empty()) GTEST_SKIP() << "needs ../shared/assets and the Python virtualenv";
  auto pnet = test::exported_victim("mtcnn_pnet", "--weights " + (assets / "weights" / "mtcnn_pnet.pt").string());
  networks::VictimEnsemble victims({exported("pnet", "detector", pnet)}, torch::kCPU);
  fs::path face;
  for (const auto& f : fs::recursive_directory_iterator(assets / "faces" / "lfw_subset")) {
    if (f.is_regular_file() && (face.empty() || f.path() < face)) face = f.path();
  }
  cv::Mat img = data::read_image(face);
  auto x = data::to_tensor(img).unsqueeze(0);  // 250x250, the face roughly centred
  auto s = optimise(term("detection_suppress"), victims, x, 8.0 / 255, 150, {}, 0.05);
  std::printf("MTCNN P-Net on %s: detection rate %.2f -> %.2f\n", face.filename().c_str(), s.first["detection_suppress/pnet/detection_rate"],
              s.last["detection_suppress/pnet/detection_rate"]);
  EXPECT_EQ(s.first["detection_suppress/pnet/faces"], 1);  // the clean image has a confident face
  EXPECT_EQ(s.first["detection_suppress/pnet/detection_rate"], 1);
  EXPECT_EQ(s.last["detection_suppress/pnet/detection_rate"], 0);
}

// `crops` scores random boxes around the face with the cascade's O-Net (score_boxes) and
// lowers them all, through the image; a detector that cannot score boxes is refused.
TEST(AdversarialTerms, DetectionSuppressCropsLowerONetAroundARealFace) {
  const fs::path assets = test::assets_dir();
  if (assets.empty() || test::python().empty()) GTEST_SKIP() << "needs ../shared/assets and the Python virtualenv";
  auto cascade = test::exported_victim("mtcnn", "--weights " + (assets / "weights").string());
  networks::VictimEnsemble victims({exported("mtcnn", "detector", cascade)}, torch::kCPU);
  auto x = data::to_tensor(data::read_image(assets / "faces" / "lfw_subset" / "Tony_Blair" / "Tony_Blair_0001.jpg")).unsqueeze(0);
  auto s = optimise(term("{name: detection_suppress, face: clean, crops: 16}"), victims, x, 8.0 / 255, 60, {}, 0.05);
  std::printf("O-Net around the face of Tony_Blair_0001: %.4f -> %.4f\n", s.first["detection_suppress/mtcnn/crop_score"],
              s.last["detection_suppress/mtcnn/crop_score"]);
  EXPECT_EQ(s.first["detection_suppress/mtcnn/detection_rate"], 1);
  EXPECT_GT(s.first["detection_suppress/mtcnn/crop_score"], 0.99);
  EXPECT_LT(s.last["detection_suppress/mtcnn/crop_score"], 0.9);

  auto pnet = test::exported_victim("mtcnn_pnet", "--weights " + (assets / "weights" / "mtcnn_pnet.pt").string());
  networks::VictimEnsemble pnet_only({exported("pnet", "detector", pnet)}, torch::kCPU);
  try {
    optimise(term("{name: detection_suppress, crops: 16}"), pnet_only, x, 8.0 / 255, 0);
    ADD_FAILURE() << "a detector without score_boxes was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("victim 'pnet' has no score_boxes method"), std::string::npos) << e.what();
  }
}

// face: auto takes each image's manifest box where it has one and the detector's clean box
// elsewhere (it used to switch the whole batch to the manifest when one image had a box).
TEST(AdversarialTerms, DetectionSuppressAutoChoosesTheFacePerImage) {
  const fs::path assets = test::assets_dir();
  if (assets.empty() || test::python().empty()) GTEST_SKIP() << "needs ../shared/assets and the Python virtualenv";
  auto pnet = test::exported_victim("mtcnn_pnet", "--weights " + (assets / "weights" / "mtcnn_pnet.pt").string());
  networks::VictimEnsemble victims({exported("pnet", "detector", pnet)}, torch::kCPU);
  std::vector<fs::path> faces;
  for (const auto& f : fs::recursive_directory_iterator(assets / "faces" / "lfw_subset")) {
    if (f.is_regular_file() && data::has_image_extension(f.path())) faces.push_back(f.path());
  }
  std::sort(faces.begin(), faces.end());
  auto x = torch::stack({data::to_tensor(data::read_image(faces[0])), data::to_tensor(data::read_image(faces[1]))});  // 250x250 each
  auto boxes = torch::tensor({{70.0, 60.0, 180.0, 190.0}, {-1.0, -1.0, -1.0, -1.0}});  // a box for the first image only
  auto s = optimise(term("detection_suppress"), victims, x, 8.0 / 255, 0, boxes);
  EXPECT_EQ(s.first["detection_suppress/pnet/faces"], 2);
  auto manifest_only = optimise(term("{name: detection_suppress, face: manifest}"), victims, x, 8.0 / 255, 0, boxes);
  EXPECT_EQ(manifest_only.first["detection_suppress/pnet/faces"], 1);
}

TEST(AdversarialTerms, RefusalMakesTheTinyVlmEmitTheTarget) {
  if (test::python().empty()) GTEST_SKIP() << "needs the Python virtualenv";
  test::TempDir dir;
  const std::vector<int64_t> prompt = {11, 12, 13}, target = {40, 41, 42, 43};
  test::write_file(dir / "tokens.json", R"({"prompts": [[11, 12, 13]], "targets": [[40, 41, 42, 43]]})");
  VictimConfig c = exported("vlm", "mllm", test::exported_victim("llava:tiny", "--random-init"));
  c.kind_options = config::Options::of(networks::MllmKindOptions{.tokens = (dir / "tokens.json").string()});
  networks::VictimEnsemble victims({c}, torch::kCPU);
  auto x = images(1);
  // The whole pixel range as budget: the tiny random model has little to read in an image.
  auto r = optimise(term("refusal"), victims, x, 1.0, 600, {}, 0.1);
  EXPECT_EQ(r.first["refusal/vlm/refusal_rate"], 0);
  EXPECT_EQ(r.last["refusal/vlm/refusal_rate"], 1);
  torch::NoGradGuard no_grad;
  auto protected_image = (x + r.delta).clamp(0, 1);
  auto vlm = victims.at("vlm");
  // Each target token leads the next-best token by a clear margin of log-probability, so
  // that no CPU's rounding decides the outcome.
  std::vector<int64_t> ids = prompt;
  ids.insert(ids.end(), target.begin(), target.end());
  auto log_p = vlm->forward(protected_image, torch::tensor(ids).unsqueeze(0))[0].slice(0, 2, 6).log_softmax(1);
  auto wanted = torch::tensor(target).unsqueeze(1);
  auto lead = log_p.gather(1, wanted).squeeze(1) - log_p.scatter(1, wanted, -1e9).amax(1);
  std::printf("refusal: smallest lead of a target token %.2f\n", lead.min().item<double>());
  EXPECT_GT(lead.min().item<double>(), 1.0);
  // Greedy decoding after the prompt, on the protected image, now says the target.
  ids = prompt;
  for (int k = 0; k < 4; ++k) ids.push_back(vlm->forward(protected_image, torch::tensor(ids).unsqueeze(0))[0][-1].argmax().item<int64_t>());
  EXPECT_EQ(std::vector<int64_t>(ids.begin() + 3, ids.end()), target);
}

}  // namespace
}  // namespace mf::losses
