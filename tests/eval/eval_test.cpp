// `maskforge eval` end to end: quality metrics against scikit-image, real countermeasures,
// the results and the report (checked in a real headless browser), the adaptive attacker on
// a source-attribution study, and bad specs.
#include "data/builders.h"
#include "data/dataset_options.h"
#include "data/image_io.h"
#include "core/config/document.h"
#include "eval/eval_config.h"
#include "eval/quality.h"
#include "losses/image_ops.h"
#include "tests/support/files.h"
#include "tests/support/images.h"
#include "tests/support/process.h"
#include "tests/support/python.h"
#include "tests/support/victims.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <regex>

namespace mf::eval {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test::run_maskforge;

TEST(Quality, SsimAgreesWithScikitImageOnRealPhotos) {
  const fs::path assets = test::assets_dir();
  if (assets.empty() || test::python().empty()) GTEST_SKIP() << "needs ../shared/assets and the Python virtualenv";
  test::TempDir dir;
  std::vector<double> ours;
  std::string pairs;
  torch::manual_seed(0);
  for (const char* name : {"astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"}) {
    auto x = data::to_tensor(data::read_image(assets / "photos" / name)).unsqueeze(0);
    auto noisy = ((x + (torch::rand_like(x) * 2 - 1) * 8.0 / 255).clamp(0, 1) * 255).round() / 255;
    auto blurred = (losses::gaussian_blur(x, 9, 1.5) * 255).round() / 255;
    for (auto [tag, y] : {std::pair{"noise", noisy}, {"blur", blurred}}) {
      const fs::path a = dir / fmt::format("{}_{}_a.png", name, tag), b = dir / fmt::format("{}_{}_b.png", name, tag);
      data::write_image(a, x[0]);
      data::write_image(b, y[0]);
      ours.push_back(ssim(y, x).item<double>());
      pairs += fmt::format("('{}', '{}'), ", b.string(), a.string());
    }
  }
  auto r = test::run_command(fmt::format(
      "'{}' -c \"import numpy as np; from PIL import Image; from skimage.metrics import structural_similarity as s\n"
      "for a, b in [{}]:\n"
      "  x, y = (np.asarray(Image.open(p).convert('RGB'), dtype=np.float64) / 255 for p in (a, b))\n"
      "  print(s(x, y, channel_axis=2, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0))\"",
      test::python(), pairs));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream lines(r.output);
  double worst = 0;
  for (double mine : ours) {
    double reference = NAN;
    lines >> reference;
    worst = std::max(worst, std::abs(mine - reference));
    EXPECT_NEAR(mine, reference, 1e-3);
  }
  std::printf("SSIM against scikit-image on %zu real photo pairs: largest difference %.2e\n", ours.size(), worst);
}

TEST(Quality, NormsPsnrAndLpipsOfAKnownChange) {
  test::TempDir dir;
  // An "LPIPS network" that is the mean absolute difference: enough to check the plumbing.
  torch::jit::Module lpips("L");
  lpips.define("def forward(self, a, b):\n  return (a - b).abs().mean([1, 2, 3])\n");
  lpips.save((dir / "lpips.pt").string());
  QualityMeter meter((dir / "lpips.pt").string(), torch::kCPU);
  auto x = torch::full({2, 3, 16, 16}, 0.5);
  auto y = x.clone();
  y[0][0][3][4] += 10.0 / 255;  // one pixel of one image
  Tally t;
  meter.add(y, x, t);
  auto m = t.means();
  EXPECT_NEAR(m.at("linf_255"), 5, 1e-6);  // the mean over the two images
  EXPECT_NEAR(m.at("l2"), 5.0 / 255, 1e-7);
  EXPECT_NEAR(m.at("lpips"), 10.0 / 255 / (3 * 16 * 16) / 2, 1e-9);
  EXPECT_NEAR(m.at("psnr"), (10 * std::log10(1 / (std::pow(10.0 / 255, 2) / 768)) + 100) / 2, 1e-6);  // identical images count as 100 dB
}

TEST(Countermeasures, AreTheRealOperations) {
  auto x = data::to_tensor(test::picture(48, 40, 5)).unsqueeze(0);
  auto apply = [&](const std::string& yaml) {
    YAML::Node node = YAML::Load(yaml);
    auto c = config::read<CountermeasureConfig>(node, {"test", {}});
    return countermeasures().at(c.kind).build(x, c, 1);
  };
  std::vector<uchar> bytes;
  cv::Mat bgr, back;
  cv::cvtColor(data::to_mat(x[0]), bgr, cv::COLOR_RGB2BGR);
  cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, 60});
  cv::cvtColor(cv::imdecode(bytes, cv::IMREAD_COLOR), back, cv::COLOR_BGR2RGB);
  EXPECT_TRUE(torch::equal(apply("{kind: jpeg, quality: 60}"), data::to_tensor(back).unsqueeze(0)));
  EXPECT_TRUE(torch::equal(apply("{kind: none}"), x));
  EXPECT_LE(std::get<0>(at::_unique(apply("{kind: bit_depth, bits: 2}"))).numel(), 4);
  for (const char* c : {"{kind: resize, scale: 0.5}", "{kind: blur, sigma: 1}", "{kind: median, size: 3}", "{kind: noise, sigma: 0.05}"}) {
    auto y = apply(c);
    EXPECT_EQ(y.sizes(), x.sizes()) << c;
    EXPECT_GT((y - x).abs().mean().item().toDouble(), 1.0 / 255) << c;
    EXPECT_TRUE(torch::equal(y, (y * 255).round() / 255)) << c << ": not 8-bit";
  }
  EXPECT_TRUE(torch::equal(apply("{kind: noise, sigma: 0.05}"), apply("{kind: noise, sigma: 0.05}")));  // seeded
}

// Synthetic shapes from `seed`, written into <dir>/<label>/<i>.png.
void write_shapes(const fs::path& dir, int64_t images, uint64_t seed) {
  data::DataConfig d;
  d.options = config::Options::of(data::SyntheticOptions{.images = images, .classes = 4, .size = 32});
  d.val_fraction = 0;
  auto set = data::build_datasets(d, seed).train;
  for (int64_t i = 0; i < set->size(); ++i) {
    auto s = set->get(i);
    test::write_picture(dir / std::to_string(s.label) / fmt::format("{:04d}.png", i), s.image);
  }
}

// The text of every <td data-KEY="NAME">VALUE</td> of an HTML document.
std::map<std::string, std::string> cells(const std::string& html, const std::string& key) {
  std::map<std::string, std::string> out;
  const std::regex td("<td data-" + key + "=\"([^\"]+)\">([^<]*)</td>");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), td); it != std::sregex_iterator(); ++it) out[(*it)[1]] = (*it)[2];
  return out;
}

TEST(Eval, WritesResultsAndAReportThatABrowserShowsWithTheSameNumbers) {
  test::TempDir dir;
  write_shapes(dir / "images", 48, 77);
  test::write_file(dir / "e.yaml", fmt::format(R"(version: 1
run: {{out_dir: {0}, name: e}}
images: {{dataset: image_folder, root: {0}/images, labels: folder, batch_size: 16}}
victims:
  - {{name: shapes, kind: classifier, source: builtin, classes: 4, checkpoint: {1}}}
  - {{name: random, kind: classifier, source: builtin, classes: 4}}
protections:
  - {{method: none}}
  - {{method: noise, eps: 16/255}}
  - {{name: coarse, method: pixelate, block: 8}}
  - {{method: dp_pix, block: 4, m: 1, epsilon: 2}}
countermeasures:
  - {{kind: none}}
  - {{kind: jpeg, quality: 75}}
  - {{kind: resize, scale: 0.5}}
report: {{samples: 3}}
)",
                                               dir.path().string(), test::trained_tiny_cnn().string()));
  auto r = run_maskforge("eval " + (dir / "e.yaml").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path out = dir / "e";
  for (const char* f : {"eval.json", "eval.csv", "report.html", "eval.log", "samples/coarse.png", "samples/none.png"}) EXPECT_TRUE(fs::exists(out / f)) << f;
  EXPECT_NE(r.output.find("shapes (accuracy)"), std::string::npos) << r.output;
  // Progress reaches the log file too, for whoever follows a long evaluation there.
  EXPECT_NE(test::read_file(out / "eval.log").find("batch 3/3 |"), std::string::npos) << test::read_file(out / "eval.log");
  const json results = json::parse(test::read_file(out / "eval.json"));
  EXPECT_EQ(results["images"], 48);
  std::map<std::string, double> reported;
  for (const auto& c : results["cells"]) {
    for (const auto& [metric, value] : c["metrics"].items()) {
      reported[fmt::format("{}|{}|{}|{}", c["protection"].get<std::string>(), c["countermeasure"].get<std::string>(), c["victim"].get<std::string>(), metric)] = value;
    }
  }
  EXPECT_EQ(reported.size(), 4u * 3 * 2 * 2);  // protections x countermeasures x victims x (accuracy, fooling_rate)
  EXPECT_EQ(reported.at("none|none|shapes|fooling_rate"), 0);
  EXPECT_GT(reported.at("none|none|shapes|accuracy"), 0.85);
  EXPECT_LT(reported.at("coarse|none|shapes|accuracy"), reported.at("none|none|shapes|accuracy"));
  const auto& none = results["protections"][0];
  EXPECT_EQ(none["quality"]["ssim"], 1);
  EXPECT_NEAR(results["protections"][1]["quality"]["linf_255"].get<double>(), 16, 1e-3);
  EXPECT_NE(test::read_file(out / "eval.csv").find("coarse,jpeg75,shapes,accuracy,"), std::string::npos);
  const std::string report = test::read_file(out / "report.html");
  for (const char* c : {"none", "jpeg75", "resize0.5"}) EXPECT_NE(report.find(fmt::format("shapes: accuracy ({}) against SSIM", c)), std::string::npos) << c;

  // The report in a real browser: it loads with no console message, and every number it shows
  // is the one in eval.json.
  if (test::run_command("command -v chromium").exit_code != 0) GTEST_SKIP() << "needs Debian's chromium (make test installs it)";
  auto page = test::run_command(fmt::format("cd '{}' && chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 --dump-dom "
                                            "'file://{}' 2>'{}' && cat '{}'",
                                            dir.path().string(), (out / "report.html").string(), (dir / "console.log").string(), (dir / "console.log").string()));
  ASSERT_EQ(page.exit_code, 0) << page.output;
  EXPECT_EQ(page.output.find(":CONSOLE"), std::string::npos) << "the page logged to the console:\n" << test::read_file(dir / "console.log");
  const auto shown = cells(page.output, "cell");
  EXPECT_EQ(shown.size(), reported.size());
  for (const auto& [key, text] : shown) {
    ASSERT_TRUE(reported.count(key)) << key;
    EXPECT_LE(std::abs(std::stod(text) - reported.at(key)), 5e-4 + 1e-9) << key << ": shown " << text;
  }
  const auto quality = cells(page.output, "quality");
  EXPECT_LE(std::abs(std::stod(quality.at("coarse|ssim")) - results["protections"][2]["quality"]["ssim"].get<double>()), 5e-4 + 1e-9);
  EXPECT_LE(std::abs(std::stod(quality.at("noise|linf_255")) - 16), 5e-4 + 1e-9);
  EXPECT_NE(page.output.find("<svg"), std::string::npos);
  EXPECT_NE(page.output.find("data:image/png;base64,"), std::string::npos);
}

// The worked example of the README: three "sources" that differ only in the fingerprint of
// their upsampling network, a classifier that attributes images to them, privacy methods
// against it, and the attacker who adapts by training on obfuscated images.
TEST(Eval, SourceAttributionAndTheAdaptiveAttacker) {
  if (test::python().empty()) GTEST_SKIP() << "needs the Python virtualenv";
  test::TempDir dir;
  write_shapes(dir / "pictures", 600, 91);
  auto tool = test::run_tool("fingerprint_sources.py", fmt::format("--input {0}/pictures --out {0}/sources --sources 3 --per-source 200", dir.path().string()));
  ASSERT_EQ(tool.exit_code, 0) << tool.output;
  test::write_file(dir / "attribution.yaml", fmt::format(R"(version: 1
run: {{out_dir: {0}, name: attribution}}
data: {{dataset: image_folder, root: {0}/sources, labels: folder, val_fraction: 0.2, hflip: false, batch_size: 32, workers: 1}}
trainer: {{kind: classifier, arch: tiny_cnn, steps: 250, lr: 0.003, val_every: 0, checkpoint_every: 0, sample_every: 0}}
)",
                                                        dir.path().string()));
  auto train = run_maskforge("train " + (dir / "attribution.yaml").string());
  ASSERT_EQ(train.exit_code, 0) << train.output;
  test::write_file(dir / "e.yaml", fmt::format(R"(version: 1
run: {{out_dir: {0}, name: e}}
images: {{dataset: image_folder, root: {0}/sources, labels: folder, batch_size: 50}}
max_images: 150
victims:
  - {{name: attributor, kind: classifier, source: builtin, classes: 3, checkpoint: {0}/attribution}}
protections:
  - {{method: none}}
  - {{method: blur, sigma: 0.7}}
adaptive:
  victims: [attributor]
  images: {{dataset: image_folder, root: {0}/sources, labels: folder, batch_size: 32, workers: 1}}
  steps: 60
  lr: 0.001
)",
                                               dir.path().string()));
  auto r = run_maskforge("eval " + (dir / "e.yaml").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json results = json::parse(test::read_file(dir / "e" / "eval.json"));
  std::map<std::string, double> accuracy;
  for (const auto& c : results["cells"]) accuracy[c["protection"].get<std::string>() + "|" + c["victim"].get<std::string>()] = c["metrics"]["accuracy"];
  std::printf("source attribution: clean %.3f, blurred %.3f, after adapting to the blur %.3f\n", accuracy.at("none|attributor"), accuracy.at("blur|attributor"),
              accuracy.at("blur|attributor+adapted"));
  EXPECT_GT(accuracy.at("none|attributor"), 0.9);  // the fingerprints tell the sources apart
  EXPECT_LT(accuracy.at("blur|attributor"), 0.5);  // a light blur hides them from the classifier as trained
  EXPECT_GT(accuracy.at("blur|attributor+adapted"), accuracy.at("blur|attributor") + 0.3);  // which learns to see through it
  EXPECT_EQ(accuracy.count("none|attributor+adapted"), 0u);  // `none` is not adapted to
}

TEST(EvalSpec, MistakesAreOneClearLine) {
  test::TempDir dir;
  auto check = [&](const std::string& yaml, const std::string& expected) {
    test::write_file(dir / "e.yaml", "version: 1\nvictims:\n  - {name: a, kind: classifier, source: builtin, classes: 4}\n" + yaml);
    auto r = run_maskforge("eval " + (dir / "e.yaml").string());
    EXPECT_EQ(r.exit_code, 2) << yaml << "\n" << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << yaml << "\n" << r.output;
  };
  check("protections: [{method: pixelat}]", "did you mean 'pixelate'");
  check("protections: [{method: none}, {method: none}]", "the name 'none' is used twice");
  check("protections: [{method: none}]\ncountermeasures: [{kind: jpeg, qualty: 5}]", "countermeasures.0.qualty: unknown key; did you mean 'quality'");
  check("protections: [{method: none}]\nadaptive: {victims: [b], steps: 5}", "no victim is named 'b'");
  check("protections: [{method: none}]\nadaptive: {victims: [a], protections: [spam], steps: 5}", "no protection is named 'spam'");
  check("protections: [{method: krtio, overlays: x}]", "krtio needs `key_file`");
}

TEST(EvalSpec, TheCommittedReferenceIsUpToDate) {
  EXPECT_EQ(test::read_file(test::source_dir() / "docs" / "eval.md"), eval_schema_markdown())
      << "docs/eval.md is out of date: run `build/maskforge config schema --eval --out docs/eval.md`";
}

}  // namespace
}  // namespace mf::eval
