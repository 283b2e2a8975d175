// Export to TorchScript (parity in C++ and Python) and protecting real files.
#include "core/error.h"
#include "data/image_io.h"
#include "export/twin.h"
#include "networks/generator.h"
#include "protect/exported_model.h"
#include "tests/support/files.h"
#include "tests/support/images.h"
#include "tests/support/process.h"
#include "tests/support/python.h"
#include "tests/support/victims.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

namespace mf {
namespace {

namespace fs = std::filesystem;
using test::run_maskforge;

// Trains a tiny protection for a few steps and returns its run folder.
fs::path tiny_run(const test::TempDir& dir, const std::string& kind, const std::string& extra = "") {
  test::write_file(dir / "c.yaml", fmt::format(R"(version: 1
run: {{out_dir: {}, name: r}}
data: {{dataset: synthetic, images: 40, classes: 4, size: 24, batch_size: 4, workers: 1}}
generator: {{arch: unet, width: 4, depth: 3, noise_channels: 1}}
victims:
  - {{name: net, kind: classifier, source: builtin, classes: 4, input_size: [24, 24]}}
losses:
  - {{name: untargeted_ce}}
{}
trainer: {{kind: {}, {}steps: 3, val_every: 0, sample_every: 0, checkpoint_every: 0}}
)",
                                               dir.path().string(), extra, kind, kind == "uep" ? "size: [12, 12], " : ""));
  auto r = run_maskforge("train " + (dir / "c.yaml").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return dir / "r";
}

TEST(Export, GeneratorTwinCarriesMetadataAndTakesAnySize) {
  test::TempDir dir;
  auto run = tiny_run(dir, "spam", "eps: {schedule: constant, value: 6/255, scaling: texture, max_factor: 1.5, full_std: 0.04}");
  auto r = run_maskforge("export " + run.string() + " --out " + (dir / "g.pt").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto m = torch::jit::load((dir / "g.pt").string());
  EXPECT_EQ(m.attr("maskforge_kind").toStringRef(), "generator");
  EXPECT_EQ(m.attr("arch").toStringRef(), "unet");
  EXPECT_EQ(m.attr("run_name").toStringRef(), "r");
  EXPECT_NEAR(m.attr("eps").toDouble(), 6.0 / 255, 1e-12);
  EXPECT_EQ(m.attr("config_sha256").toStringRef().size(), 64u);
  EXPECT_FALSE(m.attr("toolkit_version").toStringRef().empty());
  torch::NoGradGuard no_grad;
  for (auto [h, w] : {std::pair{24, 24}, {101, 67}, {9, 300}}) {
    auto x = torch::rand({1, 3, h, w});
    auto y = m.forward({x}).toTensor();
    EXPECT_EQ(y.sizes(), x.sizes());
    EXPECT_LE((y - x).abs().max().item<double>(), 1.5 * 6.0 / 255 + 1e-6);  // texture map capped at 1.5 eps
  }
}

TEST(Export, PythonLoadsTheExportAndAgreesWithCpp) {
  if (test::python().empty()) GTEST_SKIP() << "no Python virtualenv";
  test::TempDir dir;
  auto run = tiny_run(dir, "spam");
  ASSERT_EQ(run_maskforge("export " + run.string() + " --out " + (dir / "g.pt").string()).exit_code, 0);
  test::write_picture(dir / "photo.png", test::picture(70, 50, 4));
  // Python: decode the PNG with Pillow, run the export, save the result as raw floats.
  auto py = test::run_command("'" + test::python() + "' -c \"import sys, torch, numpy as np\nfrom PIL import Image\n"
                              "x = torch.from_numpy(np.asarray(Image.open(sys.argv[1]).convert('RGB'))).permute(2, 0, 1).float().div(255)[None]\n"
                              "m = torch.jit.load(sys.argv[2])\ntorch.manual_seed(0)\n"
                              "m.perturbation(x).contiguous().numpy().astype('<f4').tofile(sys.argv[3])\" " +
                              (dir / "photo.png").string() + " " + (dir / "g.pt").string() + " " + (dir / "py.bin").string());
  ASSERT_EQ(py.exit_code, 0) << py.output;
  auto m = torch::jit::load((dir / "g.pt").string());
  auto x = data::to_tensor(data::read_image(dir / "photo.png")).unsqueeze(0);
  torch::NoGradGuard no_grad;
  // The noise channel draws from the default generator: the same seed on both sides.
  torch::manual_seed(0);
  auto cpp = m.run_method("perturbation", x).toTensor();
  const std::string bytes = test::read_file(dir / "py.bin");
  ASSERT_EQ(bytes.size(), static_cast<size_t>(cpp.numel() * 4));
  auto python = torch::from_blob(const_cast<char*>(bytes.data()), cpp.sizes(), torch::kFloat).clone();
  EXPECT_LT((python - cpp).abs().max().item<double>(), 1e-5);
}

// A guided generator's export carries its guide's network and computes the guidance itself,
// in one pass or several (generator.guide_steps; with two, away from the top two classes and
// also through JPEG): parity with the trained module (checked by export), gradients needed,
// and protect runs it. The network it carries is the one the guide ran: frozen, its batch
// norm folded away.
class GuidedExport : public ::testing::TestWithParam<int> {};

TEST_P(GuidedExport, CarriesItsGuideAndProtectsFiles) {
  const int steps = GetParam();
  const int jpeg = steps == 2 ? 80 : 0;
  test::TempDir dir;
  torch::jit::Module net("Classifier");
  net.register_parameter("w", torch::randn({4, 3, 3, 3}), false);
  net.register_parameter("gamma", torch::rand({4}) + 0.5, false);
  net.register_parameter("beta", torch::randn({4}), false);
  net.register_buffer("mean", torch::randn({4}));
  net.register_buffer("var", torch::rand({4}) + 0.5);
  net.define(R"(
def forward(self, x):
  h = torch.batch_norm(torch.conv2d(x, self.w, None, [1, 1], [1, 1]), self.gamma, self.beta, self.mean, self.var, False, 0.1, 1e-5, False)
  return h.mean([2, 3])
)");
  net.eval();
  net.save((dir / "net.pt").string());
  test::write_file(dir / "c.yaml", fmt::format(R"(version: 1
run: {{out_dir: {dir}, name: r}}
data: {{dataset: synthetic, images: 40, classes: 4, size: 24, batch_size: 4, workers: 1}}
generator: {{arch: resnet, width: 4, blocks: 1, guide: [cls], guide_steps: {steps}, guide_top_k: {steps}, guide_jpeg: {jpeg}}}
victims:
  - {{name: cls, kind: classifier, source: torchscript, path: {net}, input_size: [16, 16]}}
losses:
  - {{name: untargeted_ce, top_k: {steps}}}
trainer: {{kind: spam, steps: 3, val_every: 0, sample_every: 0, checkpoint_every: 0}}
)",
                                               fmt::arg("dir", dir.path().string()), fmt::arg("steps", steps), fmt::arg("jpeg", jpeg), fmt::arg("net", (dir / "net.pt").string())));
  auto r = run_maskforge("train " + (dir / "c.yaml").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(steps == 1 ? "guided by the input gradient of cls\n" : "guided by the input gradient of cls in 2 passes"), std::string::npos)
      << r.output;
  const fs::path run = dir / "r";
  r = run_maskforge("export " + run.string() + " --out " + (dir / "g.pt").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto m = torch::jit::load((dir / "g.pt").string());
  EXPECT_TRUE(m.attr("guided").toBool());
  ASSERT_TRUE(m.hasattr("guide0"));
  auto graph = m.attr("guide0").toModule().get_method("forward").graph();
  for (const auto* node : graph->nodes()) EXPECT_NE(node->kind(), c10::aten::batch_norm) << "the twin carries the unfrozen network";
  auto x = torch::rand({2, 3, 30, 26});
  auto y = m.forward({x}).toTensor();
  EXPECT_LE((y - x).abs().max().item<double>(), 8.0 / 255 + 1e-6);
  {
    torch::NoGradGuard no_grad;
    EXPECT_THROW(m.forward({x}), std::exception);
  }
  test::write_picture(dir / "in" / "a.png", test::picture(40, 36, 1));
  r = run_maskforge(fmt::format("protect --model {} --input {} --output {}", (dir / "g.pt").string(), (dir / "in").string(), (dir / "out").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto in = data::to_tensor(data::read_image(dir / "in" / "a.png")), out = data::to_tensor(data::read_image(dir / "out" / "a.png"));
  EXPECT_LE((out - in).abs().max().item<double>(), 8.0 / 255 + 1.0 / 255);
  EXPECT_GT((out - in).abs().max().item<double>(), 0);
}

INSTANTIATE_TEST_SUITE_P(Passes, GuidedExport, ::testing::Values(1, 2));

// A detector guide on boxes around the clean face (generator.guide_crops) may take passes:
// its boxes are fixed by the first, so the export matches the trained generator in two.
TEST(GuidedExport, ADetectorGuideOnCropsTakesTwoPasses) {
  test::TempDir dir;
  test::write_box_scoring_detector(dir / "det.pt");
  test::write_file(dir / "c.yaml", fmt::format(R"(version: 1
run: {{out_dir: {dir}, name: r}}
data: {{dataset: synthetic, images: 40, classes: 4, size: 24, batch_size: 4, workers: 1}}
generator: {{arch: resnet, width: 4, blocks: 1, guide: [det], guide_steps: 2, guide_crops: 6}}
victims:
  - {{name: det, kind: detector, source: torchscript, path: {det}, input_size: [16, 16]}}
losses:
  - {{name: detection_suppress, face: clean, score_threshold: 0, crops: 5}}
trainer: {{kind: spam, steps: 3, val_every: 0, sample_every: 0, checkpoint_every: 0}}
)",
                                               fmt::arg("dir", dir.path().string()), fmt::arg("det", (dir / "det.pt").string())));
  auto r = run_maskforge("train " + (dir / "c.yaml").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("guided by the input gradient of det in 2 passes, a detector's on 6 boxes around the face"), std::string::npos) << r.output;
  r = run_maskforge("export " + (dir / "r").string() + " --out " + (dir / "g.pt").string());  // checks parity
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto m = torch::jit::load((dir / "g.pt").string());
  auto x = torch::rand({2, 3, 30, 26});
  EXPECT_LE((m.forward({x}).toTensor() - x).abs().max().item<double>(), 8.0 / 255 + 1e-6);
}

TEST(Export, UepExportsATensorModuleAndAPicture) {
  test::TempDir dir;
  auto run = tiny_run(dir, "uep");
  auto r = run_maskforge("export " + run.string() + " --out " + (dir / "u.pt").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir / "u.png"));
  auto m = torch::jit::load((dir / "u.pt").string());
  EXPECT_EQ(m.attr("maskforge_kind").toStringRef(), "uep");
  EXPECT_EQ(m.attr("delta").toTensor().sizes(), (torch::IntArrayRef{1, 3, 12, 12}));
}

TEST(Export, ParityFailuresAreLoudAndLeaveNoFile) {
  networks::GeneratorConfig g;
  g.options = config::Options::of(networks::ResnetOptions{.width = 4, .blocks = 1});
  auto generator = networks::build_generator(g);
  generator->eval();
  auto twin = exporting::generator_twin(*generator, {"r", "", 0.03, {}});
  test::TempDir dir;
  auto eps = torch::tensor(0.03);
  EXPECT_NO_THROW(exporting::save_checked(twin, [&](const torch::Tensor& x) { return generator->forward(x, eps); }, dir / "ok.pt"));
  EXPECT_THROW(exporting::save_checked(twin, [&](const torch::Tensor& x) { return generator->forward(x, eps) + 1e-3; }, dir / "bad.pt"),
               RuntimeError);
  EXPECT_FALSE(fs::exists(dir / "bad.pt"));
}

TEST(Export, RunsWithoutAProtectionAreRefused) {
  test::TempDir dir;
  auto r = run_maskforge(fmt::format("train configs/quickstart_victim.yaml --set run.out_dir={} --set trainer.steps=2 --set data.images=64",
                                     dir.path().string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto e = run_maskforge("export " + (dir / "quickstart_victim").string() + " --out " + (dir / "x.pt").string());
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_NE(e.output.find("a `classifier` run has nothing to export"), std::string::npos) << e.output;
}

TEST(Protect, AFolderKeepsNamesAndSubfoldersSkipsBadFilesAndWritesACsv) {
  test::TempDir dir;
  auto run = tiny_run(dir, "spam");
  ASSERT_EQ(run_maskforge("export " + run.string() + " --out " + (dir / "g.pt").string()).exit_code, 0);
  test::write_picture(dir / "in" / "a.jpg", test::picture(64, 48, 1));
  test::write_picture(dir / "in" / "sub" / "b.png", test::picture(40, 40, 2));
  test::write_picture(dir / "in" / "sub" / "c.png", test::picture(40, 40, 3));
  test::write_file(dir / "in" / "broken.jpg", "not a jpeg");
  auto r = run_maskforge(fmt::format("protect --model {} --input {} --output {}", (dir / "g.pt").string(), (dir / "in").string(), (dir / "out").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir / "out" / "a.jpg"));
  EXPECT_TRUE(fs::exists(dir / "out" / "sub" / "b.png"));
  EXPECT_FALSE(fs::exists(dir / "out" / "broken.jpg"));
  EXPECT_NE(r.output.find("1 image(s) skipped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("mean SSIM"), std::string::npos);
  EXPECT_EQ(data::read_image(dir / "out" / "a.jpg").size(), cv::Size(64, 48));  // native resolution
  const std::string csv = test::read_file(dir / "out" / "protect.csv");
  EXPECT_NE(csv.find("sub/c.png\",40,40,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("skipped: is not a JPEG"), std::string::npos) << csv;
  // PNG output is lossless: the protected PNG differs from the input only by the perturbation.
  auto in = data::to_tensor(data::read_image(dir / "in" / "sub" / "b.png")), out = data::to_tensor(data::read_image(dir / "out" / "sub" / "b.png"));
  EXPECT_LE((out - in).abs().max().item<double>(), 8.0 / 255 + 1.0 / 255);
}

TEST(Protect, RefusesImagesAboveThePixelLimitAndContinuesAnInterruptedFolder) {
  test::TempDir dir;
  auto run = tiny_run(dir, "spam");
  ASSERT_EQ(run_maskforge("export " + run.string() + " --out " + (dir / "g.pt").string()).exit_code, 0);
  test::write_picture(dir / "in" / "a.png", test::picture(40, 40, 1));
  test::write_picture(dir / "in" / "b.png", test::picture(40, 40, 2));
  test::write_picture(dir / "in" / "big.png", test::picture(64, 48, 3));  // 3,072 pixels
  test::write_picture(dir / "in" / "tiny.png", test::picture(6, 5, 4));   // smaller than SSIM's window
  const std::string protect = fmt::format("protect --model {} --input {} --output {} --max-image-megapixels 0.002", (dir / "g.pt").string(),
                                          (dir / "in").string(), (dir / "out").string());
  auto r = run_maskforge(protect);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::exists(dir / "out" / "big.png"));
  EXPECT_NE(r.output.find("big.png': it is too large: its header declares 64 x 48 pixels (0.00307 megapixels), above the limit of 0.002"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(data::read_image(dir / "out" / "tiny.png").size(), cv::Size(6, 5));
  // An interrupted run: b.png never written. --skip-existing protects it and leaves a.png.
  fs::remove(dir / "out" / "b.png");
  test::write_file(dir / "out" / "a.png", "kept");
  r = run_maskforge(protect + " --skip-existing");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(test::read_file(dir / "out" / "a.png"), "kept");
  EXPECT_EQ(data::read_image(dir / "out" / "b.png").size(), cv::Size(40, 40));
  EXPECT_NE(r.output.find("2 image(s) already in"), std::string::npos) << r.output;  // a.png, tiny.png
  const std::string csv = test::read_file(dir / "out" / "protect.csv");
  EXPECT_EQ(csv.find("path,width"), csv.rfind("path,width")) << "one header: the second run appends\n" << csv;
  EXPECT_NE(csv.find("a.png\",40,40,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("b.png\",40,40,"), std::string::npos) << csv;
  for (const auto& f : fs::directory_iterator(dir / "out")) EXPECT_NE(f.path().extension(), ".part") << f.path();
}

TEST(Protect, TheOwnerOfAUepRemovesItAndAGeneratorCannotBeRemoved) {
  test::TempDir dir;
  // A UEP of the full budget, exported as `maskforge export` does.
  const double eps = 8.0 / 255;
  protection::UniversalPerturbation uep({12, 12});
  {
    torch::NoGradGuard no_grad;
    torch::manual_seed(0);
    uep.parameters()[0].copy_((torch::rand({1, 3, 12, 12}) * 2 - 1) * eps);
  }
  exporting::uep_twin(uep, {"u", "", eps, {}}).save((dir / "u.pt").string());
  test::write_picture(dir / "in" / "a.png", test::picture(40, 30, 1));
  const std::string model = "protect --model " + (dir / "u.pt").string();
  ASSERT_EQ(run_maskforge(fmt::format("{} --input {} --output {}", model, (dir / "in").string(), (dir / "p").string())).exit_code, 0);
  auto r = run_maskforge(fmt::format("{} --mode decode --input {} --output {}", model, (dir / "p").string(), (dir / "d").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("possibly clipped"), std::string::npos) << r.output;
  auto in = data::to_tensor(data::read_image(dir / "in" / "a.png")), p = data::to_tensor(data::read_image(dir / "p" / "a.png")),
       d = data::to_tensor(data::read_image(dir / "d" / "a.png"));
  // Where protecting did not clip, decoding returns the original up to 8-bit rounding.
  auto unclipped = (p > 0) & (p < 1);
  EXPECT_GT((p - in).abs().max().item<double>(), 4.0 / 255);
  EXPECT_LE(((d - in).abs() * unclipped).max().item<double>(), 1.0 / 255 + 1e-6);
  auto spam = tiny_run(dir, "spam");
  ASSERT_EQ(run_maskforge("export " + spam.string() + " --out " + (dir / "g.pt").string()).exit_code, 0);
  auto g = run_maskforge(fmt::format("protect --model {} --mode decode --input {} --output {}", (dir / "g.pt").string(), (dir / "p").string(), (dir / "g").string()));
  EXPECT_EQ(g.exit_code, 2) << g.output;
  EXPECT_NE(g.output.find("cannot be removed"), std::string::npos) << g.output;
}

TEST(Protect, AWorkingResolutionRunsTheModelSmallAndStaysWithinEps) {
  test::TempDir dir;
  auto run = tiny_run(dir, "spam");
  ASSERT_EQ(run_maskforge("export " + run.string() + " --out " + (dir / "g.pt").string()).exit_code, 0);
  const double eps = 8.0 / 255;  // the default budget of tiny_run
  auto x = data::to_tensor(test::picture(400, 300, 4)).unsqueeze(0);
  auto perturb = [&](protect::ModelOptions sizes) {
    torch::manual_seed(0);  // the U-Net's noise channels
    sizes.path = (dir / "g.pt").string();
    return protect::load_exported(sizes, torch::kCPU)->perturbation(x);
  };
  auto native = perturb({.work_megapixels = "0"}), small = perturb({.work_megapixels = "0.03"});
  EXPECT_EQ(small.sizes(), x.sizes());
  EXPECT_LE(small.abs().max().item<double>(), eps + 1e-6);
  // 0.03 MP is below the photo's 0.12 MP: the model ran scaled down.
  EXPECT_GT((small - native).abs().mean().item<double>(), 0.05 * native.abs().mean().item<double>());
  // Photos smaller than the working size run at native resolution.
  EXPECT_TRUE(torch::equal(perturb({.work_megapixels = "1"}), native));
  // auto: the training images' size, 24 x 24, recorded in the export.
  EXPECT_EQ(torch::jit::load((dir / "g.pt").string()).attr("train_size").toIntList().vec(), (std::vector<int64_t>{24, 24}));
  EXPECT_TRUE(torch::equal(perturb({}), perturb({.work_megapixels = "0.000576"})));
  EXPECT_THROW(perturb({.work_megapixels = "big"}), InputError);
  test::write_picture(dir / "in" / "p.png", test::picture(400, 300, 4));
  auto r = run_maskforge(fmt::format("protect --model {} --work-megapixels 0.03 --input {} --output {}", (dir / "g.pt").string(),
                                     (dir / "in").string(), (dir / "out").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto in = data::to_tensor(data::read_image(dir / "in" / "p.png")), out = data::to_tensor(data::read_image(dir / "out" / "p.png"));
  EXPECT_EQ(out.sizes(), in.sizes());
  EXPECT_LE((out - in).abs().max().item<double>(), eps + 1.0 / 255);
}

TEST(Protect, RefusesToWriteIntoTheInputOrOverAnInput) {
  test::TempDir dir;
  auto run = tiny_run(dir, "spam");
  ASSERT_EQ(run_maskforge("export " + run.string() + " --out " + (dir / "g.pt").string()).exit_code, 0);
  test::write_picture(dir / "in" / "a.png", test::picture(32, 32, 1));
  for (const fs::path& out : {dir / "in", dir / "in" / "protected"}) {
    auto r = run_maskforge(fmt::format("protect --model {} --input {} --output {}", (dir / "g.pt").string(), (dir / "in").string(), out.string()));
    EXPECT_EQ(r.exit_code, 2) << out;
    EXPECT_NE(r.output.find("is the input folder or inside it"), std::string::npos) << r.output;
  }
  auto same = run_maskforge(fmt::format("protect --model {} --input {} --output {}", (dir / "g.pt").string(), (dir / "in" / "a.png").string(),
                                        (dir / "in").string()));
  EXPECT_EQ(same.exit_code, 2);
  EXPECT_NE(same.output.find("would overwrite it"), std::string::npos) << same.output;
}

TEST(Protect, AModelThatIsNotAMaskforgeExportIsRefused) {
  test::TempDir dir;
  test::write_picture(dir / "in" / "a.png", test::picture(32, 32, 1));
  test::write_file(dir / "junk.pt", "junk");
  torch::jit::Module other("Other");
  other.define("def forward(self, x):\n  return x\n");
  other.save((dir / "other.pt").string());
  for (const char* model : {"junk.pt", "other.pt", "missing.pt"}) {
    auto r = run_maskforge(fmt::format("protect --model {} --input {} --output {}", (dir / model).string(), (dir / "in").string(), (dir / "out").string()));
    EXPECT_EQ(r.exit_code, 2) << model << ": " << r.output;
  }
  auto r = run_maskforge(fmt::format("protect --model {} --input {} --output {}", (dir / "other.pt").string(), (dir / "in").string(), (dir / "out").string()));
  EXPECT_NE(r.output.find("is a TorchScript file but not a maskforge export"), std::string::npos) << r.output;
}

TEST(Protect, PgdMethodProtectsAgainstAConfigsVictims) {
  test::TempDir dir;
  test::write_picture(dir / "in" / "a.png", test::picture(48, 40, 1));
  test::write_file(dir / "c.yaml", R"(version: 1
victims:
  - {name: net, kind: classifier, source: builtin, classes: 4}
losses:
  - {name: untargeted_ce}
trainer: {kind: pgd, iterations: 5}
)");
  auto r = run_maskforge(fmt::format("protect --method pgd --config {} --input {} --output {}", (dir / "c.yaml").string(), (dir / "in").string(),
                                     (dir / "out").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("per-image PGD (5 iterations"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir / "out" / "a.png"));
}

// Stated tolerance (README): away from the image border, the tiled perturbation differs from
// the untiled one by less than 15 % of eps on average (instance normalisation sees each
// tile's own statistics; measured 11 %), and there are no seams: the perturbation changes no
// faster across the blended tile overlaps than elsewhere.
TEST(Protect, TiledAndUntiledAgreeAwayFromTheBorder) {
  torch::manual_seed(0);
  networks::GeneratorConfig g;
  g.options = config::Options::of(networks::ResnetOptions{.width = 8, .blocks = 2});
  auto generator = networks::build_generator(g);
  generator->eval();  // its default initialisation already spends the budget, as a trained one does
  const double eps = 8.0 / 255;
  auto fn = [&](const torch::Tensor& t) { return generator->forward(t, torch::tensor(eps)); };
  auto x = data::to_tensor(test::picture(700, 520, 5)).unsqueeze(0);
  torch::NoGradGuard no_grad;
  auto whole = fn(x);
  auto tiles = protect::tiled(x, 384, 128, fn);
  auto inner = [](const torch::Tensor& t) { return t.slice(2, 32, -32).slice(3, 32, -32); };
  const double mean_diff = (inner(whole) - inner(tiles)).abs().mean().item<double>() / eps;
  std::printf("tiled vs untiled: mean |difference| %.2f %% of eps\n", 100 * mean_diff);
  EXPECT_LT(mean_diff, 0.15);
  // Tile edges (columns 256, 316, 384, 640 here): a seam would make neighbouring columns
  // jump more than they do in the untiled perturbation.
  auto dx = [](const torch::Tensor& t) { return (t.slice(3, 1) - t.slice(3, 0, -1)).abs().mean({0, 1, 2}); };
  auto tiled_dx = dx(tiles), whole_dx = dx(whole);
  for (int64_t seam : {256, 316, 384, 640}) {
    const double t = tiled_dx.slice(0, seam - 2, seam + 2).mean().item<double>(), w = whole_dx.slice(0, seam - 2, seam + 2).mean().item<double>();
    EXPECT_LT(t, 1.3 * w) << "column " << seam;
  }
}

}  // namespace
}  // namespace mf
