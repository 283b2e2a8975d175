// What only a GPU shows: each test skips on a machine without CUDA (every CI machine) and
// runs under scripts/gpu-check.sh on a GPU machine. They drive the maskforge binary, as a
// user would, on small synthetic data and the built-in victim.
#include "checkpoints/tensors.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/python.h"
#include "tests/support/runs.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <fstream>

namespace mf {
namespace {

namespace fs = std::filesystem;
using test::run_maskforge;

#define SKIP_WITHOUT_GPU() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"

// A spam run on the GPU: U-Net noise channels (the GPU random stream), a differentiable JPEG
// and SSIM (fp32 regions under bf16 autocast), validation and samples.
std::string gpu_config(const fs::path& out, const std::string& name, int steps, const std::string& extra = "") {
  return fmt::format(R"(version: 1
run: {{out_dir: {}, name: {}, device: cuda, seed: 3}}
data: {{dataset: synthetic, images: 256, classes: 4, size: 32, batch_size: 16, workers: 2}}
generator: {{arch: unet, width: 8, depth: 2, noise_channels: 2}}
victims:
  - {{name: net, kind: classifier, source: builtin, arch: tiny_cnn, classes: 4}}
losses:
  - {{name: untargeted_ce}}
  - {{name: ssim, weight: 0.5}}
robustness: [{{name: jpeg}}]
eps: {{schedule: constant, value: 8/255}}
trainer: {{kind: spam, steps: {}, lr: 0.001, log_every: 1, val_every: 4, val_batches: 2, checkpoint_every: 3, sample_every: 4{}}}
)",
                     out.string(), name, steps, extra);
}

std::vector<nlohmann::json> metric_lines(const fs::path& run) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(run / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(Cuda, SpamTrainsUnderBf16AutocastWithFiniteLosses) {
  SKIP_WITHOUT_GPU();
  test::TempDir dir;
  test::write_file(dir / "c.yaml", gpu_config(dir.path(), "bf16", 8));
  auto r = run_maskforge("train " + (dir / "c.yaml").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("cuda"), std::string::npos) << r.output;
  for (const auto& line : metric_lines(dir / "bf16")) {
    if (line.contains("loss/total")) {
      EXPECT_TRUE(line["loss/total"].is_number()) << line.dump();  // NaN is written as null
    }
  }
  EXPECT_TRUE(fs::exists(dir / "bf16" / "samples" / "step_000008.png"));
}

// GPU kernels are not deterministic (cuDNN's algorithms, atomics in backward passes), and
// AdamW turns rounding noise in near-zero gradients into whole learning-rate steps, so two
// runs of one config already differ: `b` may differ from `a` by little more than `rerun`
// does, parameter by parameter. A step that trains differently differs everywhere.
void expect_as_close_as_a_rerun(const std::map<std::string, at::Tensor>& a, const std::map<std::string, at::Tensor>& b,
                                const std::map<std::string, at::Tensor>& rerun) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    const double apart = (b.at(name) - t).norm().item<double>(), noise = (rerun.at(name) - t).norm().item<double>();
    EXPECT_LE(apart, 3 * noise + 1e-6 * t.norm().item<double>()) << name << ": " << apart << " apart, two plain runs " << noise;
  }
}

// Stopped after 3 steps and resumed: the same weights as one uninterrupted run, up to what
// separates two uninterrupted runs (the CUDA random state itself is restored).
TEST(Cuda, ResumeRestoresTheGpuRandomState) {
  SKIP_WITHOUT_GPU();
  test::TempDir dir;
  for (const char* name : {"straight", "again", "resumed"}) test::write_file(dir / (std::string(name) + ".yaml"), gpu_config(dir.path(), name, 6, ", precision: fp32"));
  for (const char* name : {"straight", "again"}) ASSERT_EQ(run_maskforge("train " + (dir / (std::string(name) + ".yaml")).string()).exit_code, 0);
  ASSERT_EQ(run_maskforge("train " + (dir / "resumed.yaml").string() + " --stop-after 3").exit_code, 0);
  auto r = run_maskforge("train " + (dir / "resumed.yaml").string() + " --resume auto");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("GPU random state"), std::string::npos) << r.output;
  expect_as_close_as_a_rerun(test::final_weights(dir / "straight", "generator"), test::final_weights(dir / "resumed", "generator"),
                             test::final_weights(dir / "again", "generator"));
}

// trainer.cuda_graphs: 3 eager steps, then the captured step replayed; the weights follow
// the eager run's as closely as a second eager run does.
TEST(Cuda, CapturedStepsTrainAsEagerStepsDo) {
  SKIP_WITHOUT_GPU();
  test::TempDir dir;
  const std::string fixed = ", precision: fp32, cudnn_benchmark: false";
  test::write_file(dir / "eager.yaml", gpu_config(dir.path(), "eager", 10, fixed));
  test::write_file(dir / "again.yaml", gpu_config(dir.path(), "again", 10, fixed));
  test::write_file(dir / "graph.yaml", gpu_config(dir.path(), "graph", 10, fixed + ", cuda_graphs: true"));
  for (const char* name : {"eager.yaml", "again.yaml", "graph.yaml"}) {
    auto r = run_maskforge("train " + (dir / name).string() + " --set 'robustness=[]' --set generator.noise_channels=0");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    if (std::string(name) == "graph.yaml") {
      EXPECT_NE(r.output.find("captured the training step as a CUDA graph"), std::string::npos) << r.output;
    }
  }
  expect_as_close_as_a_rerun(test::final_weights(dir / "eager", "generator"), test::final_weights(dir / "graph", "generator"),
                             test::final_weights(dir / "again", "generator"));
}

// One rank under torchrun on a GPU: the process group is NCCL.
TEST(Cuda, NcclProcessGroupWithOneRank) {
  SKIP_WITHOUT_GPU();
  if (test::python().empty()) GTEST_SKIP() << "no Python with torch (torch.distributed.run launches the job)";
  test::TempDir dir;
  test::write_file(dir / "c.yaml", gpu_config(dir.path(), "nccl", 4));
  auto r = test::run_command(fmt::format("cd '{}' && '{}' -m torch.distributed.run --standalone --nproc-per-node=1 --no-python '{}' train '{}' 2>&1",
                                         test::source_dir().string(), test::python(), (test::binary_dir() / "maskforge").string(), (dir / "c.yaml").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("nccl"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace mf
