// Every metric of every victim kind, on cases whose answer is known: real victims (a trained
// classifier, MTCNN's P-Net on a real face, a tiny LLaVA), images built so that the right
// answer follows from how they were made.
#include "core/error.h"
#include "data/builders.h"
#include "data/dataset_options.h"
#include "data/image_io.h"
#include "eval/probes.h"
#include "networks/ensemble.h"
#include "tests/support/files.h"
#include "tests/support/images.h"
#include "tests/support/python.h"
#include "tests/support/victims.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mf::eval {
namespace {

namespace fs = std::filesystem;
using networks::VictimConfig;

std::shared_ptr<networks::Victim> victim(const std::string& kind, const std::string& source, config::Options options, config::Options kind_options = {}) {
  VictimConfig c;
  c.name = "v";
  c.kind = kind;
  c.source = source;
  c.source_options = std::move(options);
  if (!kind_options.empty()) c.kind_options = std::move(kind_options);
  return networks::VictimEnsemble({c}, torch::kCPU).victims()[0];
}

data::Batch batch_of(torch::Tensor images, std::vector<std::string> identities = {}) {
  const int64_t n = images.size(0);
  data::Batch b{images, torch::full({n}, -1, torch::kLong), torch::full({n, 4}, -1.0), std::move(identities), {}};
  for (int64_t i = 0; i < n; ++i) b.indices.push_back(i);
  return b;
}

TEST(Probes, ClassifierAccuracyAndFoolingRate) {
  auto v = victim("classifier", "builtin", config::Options::of(networks::BuiltinSourceOptions{.checkpoint = test::trained_tiny_cnn().string(), .classes = 4}));
  data::DataConfig d;
  d.options = config::Options::of(data::SyntheticOptions{.images = 64, .classes = 4, .size = 32});
  d.val_fraction = 0;
  d.batch_size = 64;
  data::Batch b = data::Loader(data::build_datasets(d, 5).train, data::loader_options(d, false, 0)).next();
  torch::NoGradGuard no_grad;
  auto predicted = v->forward(b.images).argmax(1);
  auto probe = make_probe(v, {.labelled = true});
  EXPECT_EQ(probe->headline().first, "accuracy");
  probe->reference(b);
  Tally clean, flipped;
  probe->measure(b.images, b, clean);
  EXPECT_NEAR(clean.means().at("accuracy"), predicted.eq(b.labels).to(torch::kDouble).mean().item<double>(), 1e-12);
  EXPECT_EQ(clean.means().at("fooling_rate"), 0);
  // Upside down, some predictions change: the rate counts exactly those.
  auto turned = b.images.flip(2);
  probe->measure(turned, b, flipped);
  EXPECT_NEAR(flipped.means().at("fooling_rate"), v->forward(turned).argmax(1).ne(predicted).to(torch::kDouble).mean().item<double>(), 1e-12);
  EXPECT_EQ(make_probe(v, {.labelled = false})->headline().first, "fooling_rate");
}

TEST(Probes, EmbedderCosineIdentificationAndImpersonation) {
  // The trained classifier's logits serve as an embedding that tells pictures apart.
  auto v = victim("embedder", "builtin", config::Options::of(networks::BuiltinSourceOptions{.checkpoint = test::trained_tiny_cnn().string(), .classes = 4}));
  // Identities A, B, C with two identical images each: an image's nearest other gallery image
  // is its twin, so the clean images are identified perfectly.
  std::vector<torch::Tensor> faces;
  for (int k = 0; k < 3; ++k) {
    auto img = data::to_tensor(test::picture(32, 32, 20 + k));
    faces.push_back(img), faces.push_back(img);
  }
  auto images = torch::stack(faces);
  data::Batch b = batch_of(images, {"A", "A", "B", "B", "C", "C"});
  torch::NoGradGuard no_grad;
  auto probe = make_probe(v, {.impersonation_target = "B"});
  ASSERT_TRUE(probe->needs_gallery());
  probe->add_to_gallery(b);
  probe->reference(b);
  Tally clean, swapped;
  probe->measure(images, b, clean);
  EXPECT_NEAR(clean.means().at("cosine"), 1, 1e-5);
  EXPECT_EQ(clean.means().at("identification"), 1);
  // Each probe shows the next identity's face (A sees B, B sees C, C sees A): nobody is
  // identified, and of the probes that are not B, the two A probes now pass for B.
  probe->measure(images.roll(-2, 0), b, swapped);
  EXPECT_EQ(swapped.means().at("identification"), 0);
  EXPECT_EQ(swapped.means().at("impersonation"), 0.5);
  EXPECT_LT(swapped.means().at("cosine"), 0.9);
}

TEST(Probes, DetectorFindsARealFaceWhereItIs) {
  const fs::path assets = test::assets_dir();
  if (assets.empty() || test::python().empty()) GTEST_SKIP() << "needs ../shared/assets and the Python virtualenv";
  auto pnet = test::exported_victim("mtcnn_pnet", "--weights " + (assets / "weights" / "mtcnn_pnet.pt").string());
  auto v = victim("detector", "torchscript", config::Options::of(networks::TorchscriptSourceOptions{.path = pnet.string()}));
  fs::path face;
  for (const auto& f : fs::recursive_directory_iterator(assets / "faces" / "lfw_subset")) {
    if (f.is_regular_file() && (face.empty() || f.path() < face)) face = f.path();
  }
  auto photo = data::to_tensor(data::read_image(face));  // 250x250, a face in the middle
  auto grey = torch::full_like(photo, 0.5);
  data::Batch b = batch_of(torch::stack({photo, grey}));
  torch::NoGradGuard no_grad;
  auto probe = make_probe(v, {.detector_threshold = 0.5});
  probe->reference(b);  // the photo's best clean box is the face; the grey image has none
  Tally clean, blank;
  probe->measure(b.images, b, clean);
  probe->measure(torch::stack({grey, grey}), b, blank);
  EXPECT_EQ(clean.means().at("detection_rate"), 1);  // counted over the one image with a face
  EXPECT_EQ(blank.means().at("detection_rate"), 0);
  // A given face box wins over the clean detection: the face is not found in the corner.
  data::Batch corner = batch_of(photo.unsqueeze(0));
  corner.face_boxes = torch::tensor({{0.0, 0.0, 40.0, 40.0}});
  probe->reference(corner);
  Tally elsewhere;
  probe->measure(corner.images, corner, elsewhere);
  EXPECT_EQ(elsewhere.means().at("detection_rate"), 0);
}

TEST(Probes, MllmRefusalRateAndTargetLikelihood) {
  if (test::python().empty()) GTEST_SKIP() << "needs the Python virtualenv";
  const auto file = test::exported_victim("llava:tiny", "--random-init");
  auto image = data::to_tensor(test::picture(32, 32, 3)).unsqueeze(0);
  test::TempDir dir;
  auto with_targets = [&](const std::string& targets) {
    test::write_file(dir / "tokens.json", R"({"prompts": [[11, 12, 13]], "targets": )" + targets + "}");
    return victim("mllm", "torchscript", config::Options::of(networks::TorchscriptSourceOptions{.path = file.string()}),
                  config::Options::of(networks::MllmKindOptions{.tokens = (dir / "tokens.json").string()}));
  };
  // What the model says after the prompt, by greedy decoding.
  auto v = with_targets("[[1, 2, 3]]");
  std::vector<int64_t> ids = {11, 12, 13};
  {
    torch::NoGradGuard no_grad;
    for (int k = 0; k < 3; ++k) ids.push_back(v->forward(image, torch::tensor(ids).unsqueeze(0))[0][-1].argmax().item<int64_t>());
  }
  const std::vector<int64_t> said(ids.begin() + 3, ids.end());
  std::vector<int64_t> other = said;
  other[2] = (other[2] + 1) % 99;
  data::Batch b = batch_of(image);
  for (auto [targets, refused] : {std::pair{fmt::format("[[{}]]", fmt::join(said, ", ")), 1.0},
                                  {fmt::format("[[{}]]", fmt::join(other, ", ")), 0.0},
                                  {fmt::format("[[{}], [{}]]", fmt::join(other, ", "), said[0]), 1.0}}) {  // a shorter target that is a prefix counts
    auto probe = make_probe(with_targets(targets), {});
    torch::NoGradGuard no_grad;
    Tally t;
    probe->reference(b);
    probe->measure(image, b, t);
    EXPECT_EQ(t.means().at("refusal_rate"), refused) << targets;
  }
  // A victim whose tokens give answers per class (built before no_grad: loading checks gradients).
  test::write_file(dir / "answers.json", fmt::format(R"({{"prompts": [[11, 12, 13]], "targets": [[{}]], "answers": [[{}], [{}]]}})",
                                                     fmt::join(other, ", "), fmt::join(said, ", "), fmt::join(other, ", ")));
  auto answering = victim("mllm", "torchscript", config::Options::of(networks::TorchscriptSourceOptions{.path = file.string()}),
                          config::Options::of(networks::MllmKindOptions{.tokens = (dir / "answers.json").string()}));
  // The target likelihood is the geometric mean of the first target's token probabilities.
  auto v2 = with_targets(fmt::format("[[{}]]", fmt::join(said, ", ")));
  auto probe = make_probe(v2, {});
  torch::NoGradGuard no_grad;
  Tally t;
  probe->measure(image, b, t);
  auto log_p = v2->forward(image, torch::tensor(ids).unsqueeze(0))[0].slice(0, 2, 5).log_softmax(1);
  const double expected = log_p.gather(1, torch::tensor(said).unsqueeze(1)).mean().exp().item<double>();
  EXPECT_NEAR(t.means().at("target_likelihood"), expected, 1e-6);

  // On labelled images, an image is answered rightly when the model's greedy answer starts
  // with its class's answer; a label past the answers is refused.
  for (auto [label, right] : {std::pair{0L, 1.0}, {1L, 0.0}}) {
    auto labelled = make_probe(answering, {.labelled = true});
    data::Batch lb = batch_of(image);
    lb.labels.fill_(label);
    Tally answered;
    labelled->reference(lb);
    labelled->measure(image, lb, answered);
    EXPECT_EQ(answered.means().at("answer_accuracy"), right) << "label " << label;
    EXPECT_EQ(answered.means().at("refusal_rate"), 0);
  }
  data::Batch past = batch_of(image);
  past.labels.fill_(2);
  EXPECT_THROW(make_probe(answering, {.labelled = true})->reference(past), InputError);
  EXPECT_FALSE(t.means().contains("answer_accuracy"));  // unlabelled: not measured
}

}  // namespace
}  // namespace mf::eval
