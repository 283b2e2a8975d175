// Refusal protection against a vision-language model trained for real, end to end at a
// size the suite affords: tools/train_vlm.py trains a small LLaVA on real CIFAR-10 images
// (and, for a few steps, on signs it reads aloud; aligned to decline requests to identify
// the person in a photo) in seconds, export_victim.py and
// tokenize_refusal.py read its folder as they read a real LLaVA's, maskforge trains a
// refusal generator guided by it in two passes (configs/spam_mllm_refusal_cifar.yaml's takes seven)
// and exports it, and `maskforge eval` measures answers and refusals with
// clean, PGD-protected and generator-protected images.
#include "tests/support/files.h"
#include "tests/support/images.h"
#include "tests/support/process.h"
#include "tests/support/python.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mf::eval {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

TEST(MllmRefusal, TrainedVlmExportTokensTrainAndEval) {
  const fs::path assets = test::assets_dir();
  if (assets.empty() || test::python().empty()) GTEST_SKIP() << "needs ../shared/assets and the Python virtualenv";
  test::TempDir dir;
  const fs::path model = dir / "vlm";
  // A failure inside the lambda ends only the lambda: each call is wrapped in ASSERT_NO_FATAL_FAILURE.
  auto tool = [](const std::string& script, const std::string& args) {
    auto r = test::run_tool(script, args);
    ASSERT_EQ(r.exit_code, 0) << script << ":\n" << r.output;
  };
  ASSERT_NO_FATAL_FAILURE(tool("train_vlm.py", fmt::format("--out '{}' --data '{}' --teachers '{}' --images-per-class 8 --vision-steps 10 --language-steps 300 "
                                   "--read-steps 4 --decline-share 0.3 --batch 16 --width 32 --layers 1 --threads 1",
                                   model.string(), (assets / "cifar10/train").string(), (assets / "weights").string())));
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "questions/seen.txt", "questions/answers.txt"}) {
    ASSERT_TRUE(fs::exists(model / f)) << f;
  }
  ASSERT_NO_FATAL_FAILURE(tool("export_victim.py", fmt::format("'llava:{0}' --out '{0}/vlm.pt'", model.string())));
  // The declined requests have no class answer.
  for (const auto& [questions, answers] : {std::pair{"seen", "--answers '{0}/questions/answers.txt'"}, std::pair{"declined", ""}}) {
    ASSERT_NO_FATAL_FAILURE(tool("tokenize_refusal.py", fmt::format(fmt::runtime("--tokenizer '{0}' --template \"$(cat '{0}/questions/template.txt')\" --prompts '{0}/questions/{1}.txt' "
                                                                  "--targets '{0}/questions/refusals.txt' --out '{0}/{1}.json' " + std::string(answers)),
                                            model.string(), questions)));
  }
  // Two held-out test images per class, labelled by folder.
  for (const auto& cls : fs::directory_iterator(assets / "cifar10/test")) {
    fs::create_directories(dir / "images" / cls.path().filename());
    std::vector<fs::path> files(fs::directory_iterator(cls.path()), fs::directory_iterator{});
    std::sort(files.begin(), files.end());
    for (size_t i = 0; i < 2; ++i) fs::copy_file(files[i], dir / "images" / cls.path().filename() / files[i].filename());
  }
  const std::string victim = fmt::format("{{name: vlm, kind: mllm, source: torchscript, path: {0}/vlm.pt, tokens: {0}/seen.json}}", model.string());
  test::write_file(dir / "train.yaml", fmt::format(R"(version: 1
run: {{out_dir: {0}, name: refusal}}
data: {{dataset: image_folder, root: {1}, batch_size: 8}}
generator: {{arch: resnet, width: 8, blocks: 1, guide: [vlm], guide_steps: 2}}
victims: [{2}]
losses: [{{name: refusal, pairs_per_step: 2}}]
eps: {{schedule: constant, value: 8/255}}
trainer: {{kind: spam, steps: 4, log_every: 2, checkpoint_every: 4}}
)",
                                                   dir.path().string(), (dir / "images").string(), victim));
  auto trained = test::run_maskforge("train " + (dir / "train.yaml").string());
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("refusal_rate"), std::string::npos) << trained.output;
  EXPECT_NE(trained.output.find("guided by the input gradient of vlm in 2 passes"), std::string::npos) << trained.output;
  // The export carries the model and passes the parity check on its passes.
  auto exported = test::run_maskforge(fmt::format("export {0}/refusal --out {0}/generator.ts.pt", dir.path().string()));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  test::write_file(dir / "eval.yaml", fmt::format(R"(version: 1
run: {{out_dir: {0}, name: e}}
images: {{dataset: image_folder, root: {0}/images, labels: folder, batch_size: 20}}
victims: [{1}, {{name: declined, kind: mllm, source: torchscript, path: {2}/vlm.pt, tokens: {2}/declined.json}}]
protections:
  - {{method: none}}
  - {{name: spam, method: model, path: {0}/generator.ts.pt}}
  - {{name: pgd, method: pgd, config: {0}/train.yaml, iterations: 10, step_size: 2/255}}
countermeasures: [{{kind: none}}, {{kind: jpeg, quality: 75}}]
report: {{samples: 2}}
)",
                                                  dir.path().string(), victim, model.string()));
  auto r = test::run_maskforge("eval " + (dir / "eval.yaml").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json results = json::parse(test::read_file(dir / "e/eval.json"));
  std::map<std::string, double> reported;
  for (const auto& c : results["cells"]) {
    for (const auto& [metric, value] : c["metrics"].items()) {
      reported[fmt::format("{}|{}|{}|{}", c["victim"].get<std::string>(), c["protection"].get<std::string>(), c["countermeasure"].get<std::string>(), metric)] = value;
    }
  }
  for (const char* p : {"none", "spam", "pgd"}) {
    for (const char* m : {"answer_accuracy", "refusal_rate", "target_likelihood"}) ASSERT_TRUE(reported.contains(fmt::format("vlm|{}|none|{}", p, m))) << p << " " << m;
  }
  // The model answers the photo questions and declines only what it was aligned to decline,
  // so refusal_rate reads a real refusal as one. (Whether protections make it refuse is
  // measured on the model train_vlm.py trains by default: README.)
  EXPECT_EQ(reported.at("vlm|none|none|refusal_rate"), 0);
  EXPECT_GE(reported.at("declined|none|none|refusal_rate"), 0.9);
  for (const auto& p : results["protections"]) EXPECT_LE(p["quality"]["linf_255"].get<double>(), 8 + 1e-3) << p["name"];
}

// --vision-from reuses a trained tower (the language and reading stages alone, here also
// declining photos of people) and refuses one of another shape.
TEST(MllmRefusal, TrainVlmReusesATrainedTower) {
  const fs::path assets = test::assets_dir();
  if (assets.empty() || test::python().empty()) GTEST_SKIP() << "needs ../shared/assets and the Python virtualenv";
  test::TempDir dir;
  const std::string common = fmt::format("--data '{}' --teachers '{}' --images-per-class 2 --language-steps 2 --batch 8 --layers 1 --threads 1",
                                         (assets / "cifar10/train").string(), (assets / "weights").string());
  auto first = test::run_tool("train_vlm.py", fmt::format("--out '{}' --vision-steps 2 --width 32 {}", (dir / "a").string(), common));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto reused = test::run_tool("train_vlm.py", fmt::format("--out '{}' --vision-from '{}' --width 32 --decline-share 0.3 --declined-photos '{}' --read-steps 2 {}",
                                                          (dir / "b").string(), (dir / "a").string(), (assets / "faces/lfw_subset").string(), common));
  ASSERT_EQ(reused.exit_code, 0) << reused.output;
  EXPECT_NE(reused.output.find("reused the vision tower of"), std::string::npos) << reused.output;
  EXPECT_EQ(reused.output.find("\nvision "), std::string::npos) << "no vision stage's progress when the tower is reused:\n" << reused.output;
  auto other = test::run_tool("train_vlm.py", fmt::format("--out '{}' --vision-from '{}' --width 64 {}", (dir / "c").string(), (dir / "a").string(), common));
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.output.find("its tower was built with another --width or --layers"), std::string::npos) << other.output;
}

}  // namespace
}  // namespace mf::eval
