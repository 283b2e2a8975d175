// Victims of every kind exported by tools/export_victim.py load and run in C++; the real
// CIFAR-10 ResNets keep their accuracy through maskforge's own data pipeline.
#include "data/builders.h"
#include "data/dataset_options.h"
#include "data/image_io.h"
#include "data/loader.h"
#include "losses/image_ops.h"
#include "networks/victim.h"
#include "tests/support/files.h"
#include "tests/support/images.h"
#include "tests/support/python.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mf::networks {
namespace {

namespace fs = std::filesystem;

VictimConfig config_of(const fs::path& file, const std::string& kind) {
  VictimConfig c;
  c.name = file.stem().string();
  c.kind = kind;
  c.source = "torchscript";
  c.source_options = config::Options::of(TorchscriptSourceOptions{.path = file.string()});
  return c;
}

// ../shared/assets/weights/MODEL-<hash>.th, the released weights of a CIFAR-10 ResNet.
fs::path released_weights(const fs::path& assets, const std::string& model) {
  for (const auto& f : fs::directory_iterator(assets / "weights")) {
    if (f.path().filename().string().starts_with(model + "-")) return f.path();
  }
  return {};
}

struct Exported {
  std::string model, kind;
  std::vector<int64_t> shape;  // expected output shape for a batch of 2 (-1: any)
};

void PrintTo(const Exported& e, std::ostream* os) { *os << e.model; }

class ExportedVictims : public ::testing::TestWithParam<Exported> {
 protected:
  void SetUp() override {
    if (test::python().empty()) GTEST_SKIP() << "no Python virtualenv in this build (make test creates it)";
  }
};

TEST_P(ExportedVictims, LoadRunAndPassGradientToTheInputOnly) {
  const auto& p = GetParam();
  VictimConfig c = config_of(test::exported_victim(p.model, "--random-init"), p.kind);
  test::TempDir dir;
  if (p.kind == "mllm") {
    test::write_file(dir / "tokens.json", R"({"prompts": [[5, 6, 7]], "targets": [[8, 9]]})");
    c.kind_options = config::Options::of(MllmKindOptions{.tokens = (dir / "tokens.json").string()});
  }
  auto v = build_victim(resolve_victim(c), torch::kCPU);  // sidecar gives size and normalisation
  auto x = torch::rand({2, 3, 40, 40}, torch::requires_grad());
  auto out = p.kind == "mllm" ? v->forward(x, torch::tensor({5, 6, 7, 8, 9}).repeat({2, 1})) : v->forward(x);
  ASSERT_EQ(out.dim(), static_cast<int64_t>(p.shape.size()));
  for (size_t i = 0; i < p.shape.size(); ++i) {
    if (p.shape[i] >= 0) {
      EXPECT_EQ(out.size(static_cast<int64_t>(i)), p.shape[i]) << "dim " << i;
    }
  }
  out.to(torch::kFloat).square().sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0);
}

INSTANTIATE_TEST_SUITE_P(Tools, ExportedVictims,
                         ::testing::Values(Exported{"torchvision:mobilenet_v3_small", "classifier", {2, 1000}},
                                           Exported{"cifar10_resnet20", "classifier", {2, 10}},
                                           Exported{"cifar10_vgg", "classifier", {2, 10}},
                                           Exported{"cifar10_mobile", "classifier", {2, 10}},
                                           Exported{"cifar10_vit", "classifier", {2, 10}},
                                           Exported{"facenet", "embedder", {2, 512}},
                                           Exported{"open_clip:tiny", "embedder", {2, 32}},
                                           Exported{"mtcnn_pnet", "detector", {2, -1, 5}},
                                           Exported{"mtcnn", "detector", {2, 16, 5}},
                                           Exported{"llava:tiny", "mllm", {2, 5, 100}}),
                         [](const auto& info) {
                           std::string n = info.param.model;
                           for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return n;
                         });

TEST(ExportedVictims, ParametersGetNoGradient) {
  if (test::python().empty()) GTEST_SKIP() << "no Python virtualenv";
  auto file = test::exported_victim("cifar10_resnet20", "--random-init");
  auto c = resolve_victim(config_of(file, "classifier"));
  auto module = torch::jit::load(file.string());
  auto v = build_victim(c, torch::kCPU);
  auto x = torch::rand({2, 3, 32, 32}, torch::requires_grad());
  v->forward(x).sum().backward();
  // The victim's own copy is frozen: a fresh load shows requires_grad, the victim's does not.
  EXPECT_TRUE((*module.parameters().begin()).requires_grad());
  EXPECT_EQ(v->parameter_count(), 269722);  // the 0.27 M of the assets' README
}

// The CIFAR ResNets cut after a stage, for feature-level losses: an embedder of that stage's
// activations (layer2 of a 32x32 input: 32 channels of 16x16).
TEST(ExportedVictims, CifarResnetFeaturesAreAnEmbedderOfTheStage) {
  if (test::python().empty()) GTEST_SKIP() << "no Python virtualenv";
  auto v = build_victim(resolve_victim(config_of(test::exported_victim("cifar10_resnet20", "--random-init --features layer2"), "embedder")),
                        torch::kCPU);
  auto x = torch::rand({2, 3, 32, 32}, torch::requires_grad());
  auto out = v->forward(x);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 32 * 16 * 16}));
  EXPECT_GE(out.min().item<double>(), 0);  // after the stage's ReLU
  out.sum().backward();
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0);
  auto wrong = test::run_tool("export_victim.py", "facenet --random-init --features layer2 --out /dev/null");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.output.find("--features is for the CIFAR-10 models"), std::string::npos) << wrong.output;
}

// The victims of other families: train_cifar_victim.py trains one on real CIFAR-10 images,
// export_victim.py exports its weights as a classifier and, cut after a stage, as an embedder.
TEST(TrainCifarVictim, WeightsExportAsClassifierAndStageFeatures) {
  const fs::path assets = test::assets_dir();
  if (assets.empty() || test::python().empty()) GTEST_SKIP() << "needs ../shared/assets and the Python virtualenv";
  test::TempDir dir;
  const auto weights = (dir / "vit.pth").string();
  auto trained = test::run_tool("train_cifar_victim.py", "vit --steps 3 --images-per-class 4 --data '" + (assets / "cifar10/train").string() +
                                                             "' --out '" + weights + "'");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("vit 3/3"), std::string::npos) << trained.output;  // progress lines
  for (const std::string features : {"", "--features layer2"}) {
    const auto file = dir / (features.empty() ? "vit.pt" : "vit_layer2.pt");
    auto exported = test::run_tool("export_victim.py", "cifar10_vit --weights '" + weights + "' " + features + " --out '" + file.string() + "'");
    ASSERT_EQ(exported.exit_code, 0) << exported.output;
    auto v = build_victim(resolve_victim(config_of(file, features.empty() ? "classifier" : "embedder")), torch::kCPU);
    auto out = v->forward(torch::rand({2, 3, 32, 32}));
    // The classifier's logits, or the tokens after the second stage (64 patches of 128).
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, features.empty() ? 10 : 64 * 128})) << features;
  }
  auto none = test::run_tool("train_cifar_victim.py", "vit --steps 0 --data '" + (assets / "cifar10/train").string() + "' --out '" + weights + "'");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.output.find("--steps must be at least 1"), std::string::npos) << none.output;
}

// The slightly robust surrogate: robust_finetune.py fine-tunes a released ResNet on real
// CIFAR-10 images with FGSM examples, and its weights export as the same classifier, changed.
TEST(RobustFinetune, FineTunesTheReleasedResNetAndExports) {
  const fs::path assets = test::assets_dir();
  if (assets.empty() || test::python().empty()) GTEST_SKIP() << "needs ../shared/assets and the Python virtualenv";
  test::TempDir dir;
  const auto released = released_weights(assets, "cifar10_resnet20").string();
  const auto weights = (dir / "rn20_robust.pth").string();
  const auto data = "--data '" + (assets / "cifar10/train").string() + "' --weights '" + released + "' ";
  auto tuned = test::run_tool("robust_finetune.py", "20 --steps 2 --images-per-class 4 " + data + "--out '" + weights + "'");
  ASSERT_EQ(tuned.exit_code, 0) << tuned.output;
  EXPECT_NE(tuned.output.find("rn20 robust 2/255 2/2"), std::string::npos) << tuned.output;  // progress lines
  const auto file = dir / "rn20_robust.pt";
  auto exported = test::run_tool("export_victim.py", "cifar10_resnet20 --weights '" + weights + "' --out '" + file.string() + "'");
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const auto x = torch::rand({2, 3, 32, 32});
  const auto robust = build_victim(resolve_victim(config_of(file, "classifier")), torch::kCPU)->forward(x);
  // The released weights exported as RealCifarResnets exports them, so the file is shared.
  const auto released_file = test::exported_victim("cifar10_resnet20", "--weights " + released);
  const auto original = build_victim(resolve_victim(config_of(released_file, "classifier")), torch::kCPU)->forward(x);
  ASSERT_EQ(robust.sizes(), original.sizes());
  EXPECT_GT((robust - original).abs().max().item<double>(), 1e-4);  // the steps moved the weights
  auto bad = test::run_tool("robust_finetune.py", "20 --eps 0 " + data + "--out '" + weights + "'");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--eps above 0"), std::string::npos) << bad.output;
}

TEST(TokenizeRefusal, WritesPromptAndTargetIdsWithTheModelsTokenizer) {
  if (test::python().empty()) GTEST_SKIP() << "no Python virtualenv";
  test::TempDir dir;
  // A small word-level tokenizer, saved the way Hugging Face models ship theirs.
  auto made = test::run_command("'" + test::python() + "' -c \"import sys\n"
                                "from tokenizers import Tokenizer, models, pre_tokenizers\n"
                                "words = 'describe this image . sorry , i cannot help'.split()\n"
                                "t = Tokenizer(models.WordLevel({w: i for i, w in enumerate(['[UNK]'] + words)}, unk_token='[UNK]'))\n"
                                "t.pre_tokenizer = pre_tokenizers.Whitespace()\n"
                                "t.save(sys.argv[1])\" " + (dir / "tokenizer.json").string());
  ASSERT_EQ(made.exit_code, 0) << made.output;
  test::write_file(dir / "prompts.txt", "describe this image .\n");
  test::write_file(dir / "targets.txt", "sorry , i cannot help\n");
  auto r = test::run_tool("tokenize_refusal.py", "--tokenizer " + (dir / "tokenizer.json").string() + " --prompts " +
                                                     (dir / "prompts.txt").string() + " --targets " + (dir / "targets.txt").string() +
                                                     " --out " + (dir / "tokens.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  MllmTokens t = load_mllm_tokens((dir / "tokens.json").string());
  EXPECT_EQ(t.prompts, (std::vector<std::vector<int64_t>>{{1, 2, 3, 4}}));
  EXPECT_EQ(t.targets, (std::vector<std::vector<int64_t>>{{5, 6, 7, 8, 9}}));
  EXPECT_EQ(t.target_texts[0], "sorry , i cannot help");
}

class RealCifarResnets : public ::testing::TestWithParam<std::string> {};

TEST_P(RealCifarResnets, ReachTheirAccuracyOnTheRealTestImages) {
  const fs::path assets = test::assets_dir();
  if (assets.empty()) GTEST_SKIP() << "../shared/assets is absent";
  if (test::python().empty()) GTEST_SKIP() << "no Python virtualenv";
  const auto weights = released_weights(assets, GetParam());
  auto file = test::exported_victim(GetParam(), "--weights " + weights.string());
  auto victim = build_victim(resolve_victim(config_of(file, "classifier")), torch::kCPU);

  data::DataConfig d;
  d.dataset = "image_folder";
  d.options = config::Options::of(data::ImageFolderOptions{.root = (assets / "cifar10" / "test").string(), .labels = "folder"});
  d.val_fraction = 0;
  d.batch_size = 100;
  auto ds = data::build_datasets(d, 0).train;
  data::Loader loader(ds, data::loader_options(d, false, 0));
  torch::NoGradGuard no_grad;
  int64_t correct = 0, total = 0;
  for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) {
    auto batch = loader.next();
    correct += victim->forward(batch.images).argmax(1).eq(batch.labels).sum().item<int64_t>();
    total += batch.images.size(0);
  }
  const double accuracy = static_cast<double>(correct) / total;
  RecordProperty("accuracy", std::to_string(accuracy));
  std::printf("%s accuracy on ../shared/assets/cifar10/test: %.1f %%\n", GetParam().c_str(), 100 * accuracy);
  EXPECT_EQ(total, 1000);
  EXPECT_GE(accuracy, 0.78);
}

INSTANTIATE_TEST_SUITE_P(Assets, RealCifarResnets, ::testing::Values("cifar10_resnet20", "cifar10_resnet32", "cifar10_resnet44"));

// The whole cascade, exported by the tool from the real weights, finds the faces that
// facenet-pytorch's MTCNN (the reference implementation, same weights) finds.
TEST(RealMtcnn, TheCascadeFindsTheFacesOfTheReferenceImplementation) {
  const fs::path assets = test::assets_dir();
  if (assets.empty() || test::python().empty()) GTEST_SKIP() << "needs ../shared/assets and the Python virtualenv";
  auto file = test::exported_victim("mtcnn", "--weights " + (assets / "weights").string());
  auto victim = build_victim(resolve_victim(config_of(file, "detector")), torch::kCPU);
  std::vector<fs::path> faces;
  for (const auto& f : fs::recursive_directory_iterator(assets / "faces" / "lfw_subset")) {
    if (f.path().filename().string().ends_with("_0001.jpg")) faces.push_back(f.path());
  }
  std::sort(faces.begin(), faces.end());
  std::string list;
  for (const auto& f : faces) list += "'" + f.string() + "', ";
  auto reference = test::run_command(fmt::format("'{}' -c \"import warnings; warnings.simplefilter('ignore')\n"
                                                 "from PIL import Image; from facenet_pytorch import MTCNN\n"
                                                 "m = MTCNN(min_face_size=20, thresholds=[0.6, 0.7, 0.7], device='cpu')\n"
                                                 "for f in [{}]:\n"
                                                 "  b, p = m.detect(Image.open(f).convert('RGB'))\n"
                                                 "  print(*b[0])\" 2>&1",
                                                 test::python(), list));
  ASSERT_EQ(reference.exit_code, 0) << reference.output;
  std::istringstream boxes(reference.output);
  torch::NoGradGuard no_grad;
  for (const auto& f : faces) {
    auto x = data::to_tensor(data::read_image(f)).unsqueeze(0);  // 250x250
    auto out = victim->forward(x)[0];                               // boxes in the 160x160 input
    auto best = out[out.select(1, 4).argmax()];
    std::vector<float> r(4);
    for (auto& v : r) boxes >> v;
    auto theirs = torch::tensor(r).view({1, 4}) * (160.0 / 250);
    const double iou = losses::box_iou(best.slice(0, 0, 4).view({1, 1, 4}), theirs)[0][0].item<double>();
    EXPECT_GT(best[4].item<double>(), 0.9) << f;
    EXPECT_GT(iou, 0.7) << f;
  }
  EXPECT_LT(victim->forward(torch::full({1, 3, 250, 250}, 0.5)).select(2, 4).max().item<double>(), 0.1);  // no face in grey
}

// The cascade's export also scores given boxes with O-Net (score_boxes, for the
// detection_suppress term's `crops`), and keeps that method when it is frozen.
TEST(RealMtcnn, TheCascadeScoresGivenBoxes) {
  const fs::path assets = test::assets_dir();
  if (assets.empty() || test::python().empty()) GTEST_SKIP() << "needs ../shared/assets and the Python virtualenv";
  auto victim = build_victim(resolve_victim(config_of(test::exported_victim("mtcnn", "--weights " + (assets / "weights").string()), "detector")),
                             torch::kCPU);
  ASSERT_TRUE(victim->scores_boxes());
  auto pnet = build_victim(resolve_victim(config_of(test::exported_victim("mtcnn_pnet", "--weights " + (assets / "weights" / "mtcnn_pnet.pt").string()),
                                                    "detector")),
                           torch::kCPU);
  auto x = data::to_tensor(data::read_image(assets / "faces" / "lfw_subset" / "Tony_Blair" / "Tony_Blair_0001.jpg")).unsqueeze(0);
  torch::NoGradGuard no_grad;
  auto out = victim->forward(x)[0];
  auto face = out[out.select(1, 4).argmax()].slice(0, 0, 4);
  auto boxes = torch::stack({face, torch::tensor({0.0, 0.0, 40.0, 40.0})}).unsqueeze(0);  // the face, a corner
  auto scores = victim->score_boxes(x, boxes);
  ASSERT_EQ(scores.sizes(), (std::vector<int64_t>{1, 2}));
  EXPECT_GT(scores[0][0].item<double>(), 0.9);
  EXPECT_LT(scores[0][1].item<double>(), 0.1);
  EXPECT_FALSE(pnet->scores_boxes());
  EXPECT_THROW(pnet->score_boxes(x, boxes), InputError);
}

}  // namespace
}  // namespace mf::networks
