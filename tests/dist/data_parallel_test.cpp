// Data-parallel training through the real CLI: several maskforge processes of one job on
// this machine over Gloo, launched as torchrun would (RANK, WORLD_SIZE, MASTER_*) and
// through torchrun itself.
#include "checkpoints/manager.h"
#include "checkpoints/tensors.h"
#include "tests/dist/free_port.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/python.h"
#include "tests/support/runs.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <thread>

namespace mf {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A small protection run: 16x16 synthetic images, a tiny generator, a random tiny victim,
// no random transforms. No normalisation layers: batch norm sees each rank's batch only,
// and a convolution bias before instance norm has a gradient that is zero but for
// rounding, which Adam's first steps turn into full-size updates of either sign.
std::string job_config(const fs::path& out, const std::string& kind, int batch, int steps, double timeout_s = 60) {
  return fmt::format(R"(version: 1
run: {{out_dir: {}, name: r, seed: 5}}
data: {{dataset: synthetic, images: 72, classes: 4, size: 16, batch_size: {}, workers: 1, val_fraction: 0.1}}
generator: {{arch: resnet, width: 4, blocks: 1, norm: none}}
victims:
  - {{name: net, kind: classifier, source: builtin, classes: 4, input_size: [16, 16]}}
losses:
  - {{name: untargeted_ce}}
  - {{name: l2, weight: 0.5}}
eps: {{schedule: constant, value: 8/255}}
trainer: {{kind: {}, {}steps: {}, lr: 0.01, warmup_steps: 2, log_every: 1, sample_every: 0, val_every: 0, val_batches: 1, checkpoint_every: 2, keep_last: 3}}
dist: {{timeout_s: {}}}
)",
                     out.string(), batch, kind, kind == "uep" ? "size: [8, 8], " : "", steps, timeout_s);
}

// The ranks of one job, each a maskforge process with the environment torchrun gives.
class Job {
 public:
  Job(const fs::path& logs, int ranks, const std::function<std::string(int rank)>& args) : logs_(logs) {
    const int port = test::free_port();
    for (int r = 0; r < ranks; ++r) {
      ranks_.push_back(std::make_unique<test::Background>(fmt::format(
          "cd '{}' && RANK={} WORLD_SIZE={} LOCAL_RANK={} LOCAL_WORLD_SIZE={} MASTER_ADDR=127.0.0.1 MASTER_PORT={} OMP_NUM_THREADS=1 exec '{}' {} > '{}' 2>&1",
          test::source_dir().string(), r, ranks, r, ranks, port, (test::binary_dir() / "maskforge").string(), args(r), log_path(r).string())));
    }
  }

  pid_t pid(int rank) const { return ranks_[static_cast<size_t>(rank)]->pid(); }
  fs::path log_path(int rank) const { return logs_ / fmt::format("rank{}.log", rank); }
  std::string log(int rank) const { return test::read_file(log_path(rank)); }
  // Exit code of `rank`, waiting up to `seconds`; -1 if it is still running.
  int wait(int rank, double seconds = 300) { return ranks_[static_cast<size_t>(rank)]->wait(seconds); }

 private:
  fs::path logs_;
  std::vector<std::unique_ptr<test::Background>> ranks_;
};

void expect_close(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b, double atol) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    const double diff = (t - b.at(name)).abs().max().item<double>();
    EXPECT_LE(diff, atol) << name;
  }
}

bool wait_for(const std::function<bool()>& condition, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

struct Case {
  std::string kind, module;
  int grad_accum;
  double bucket_mb = 25;  // 0.001: every parameter tensor in a bucket of its own
  std::string combine = "sum";
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.kind << ", grad_accum " << c.grad_accum << ", buckets of " << c.bucket_mb << " MiB, combine " << c.combine;
}

class DataParallel : public ::testing::TestWithParam<Case> {};

// With gradient accumulation, each rank's micro-batches of B / accum images add up to B.
TEST_P(DataParallel, TwoRanksWithBatchBEqualOneRankWithBatch2B) {
  const auto& [kind, module, accum, bucket_mb, combine] = GetParam();
  test::TempDir dir;
  test::write_file(dir / "one.yaml", job_config(dir / "one", kind, 8, 6));
  test::write_file(dir / "two.yaml", job_config(dir / "two", kind, 4 / accum, 6));
  Job one(dir.path(), 1, [&](int) { return fmt::format("train {} --set trainer.combine={}", (dir / "one.yaml").string(), combine); });
  ASSERT_EQ(one.wait(0), 0) << one.log(0);
  fs::create_directories(dir / "logs2");
  Job two(dir / "logs2", 2, [&](int) {
    return fmt::format("train {} --set trainer.grad_accum={} --set dist.bucket_mb={} --set trainer.combine={}", (dir / "two.yaml").string(), accum,
                       bucket_mb, combine);
  });
  ASSERT_EQ(two.wait(0), 0) << two.log(0);
  ASSERT_EQ(two.wait(1), 0) << two.log(1);
  EXPECT_NE(two.log(0).find(fmt::format("data-parallel over 2 ranks (gloo): global batch 8 ({} per rank", 4 / accum)), std::string::npos) << two.log(0);
  if (bucket_mb < 1) {
    EXPECT_EQ(two.log(0).find("gradients in 1 bucket"), std::string::npos) << two.log(0);
  }
  // Only rank 0 speaks and writes.
  EXPECT_EQ(two.log(1).find("step 6/6"), std::string::npos) << two.log(1);
  expect_close(test::final_weights(dir / "one" / "r", module), test::final_weights(dir / "two" / "r", module), 1e-5);
  // Rank 0's checkpoint carries rank 1's random state.
  auto rng = checkpoints::load_tensors(checkpoints::resolve_checkpoint(dir / "two" / "r").dir / "rng.pt");
  EXPECT_TRUE(rng.count("cpu") && rng.count("rank1/cpu"));
  EXPECT_FALSE(torch::equal(rng.at("cpu"), rng.at("rank1/cpu"))) << "each rank has its own random stream";
}

INSTANTIATE_TEST_SUITE_P(Trainers, DataParallel,
                         ::testing::Values(Case{"spam", "generator", 1}, Case{"uep", "perturbation", 1}, Case{"spam", "generator", 2},
                                           Case{"spam", "generator", 1, 0.001}, Case{"spam", "generator", 1, 25, "pcgrad"}),
                         [](const auto& info) {
                           return info.param.kind + (info.param.grad_accum > 1 ? "_accumulating" : "") + (info.param.bucket_mb < 1 ? "_many_buckets" : "") +
                                  (info.param.combine != "sum" ? "_" + info.param.combine : "");
                         });

TEST(DataParallel, MismatchedConfigsAreRefusedOnEveryRank) {
  test::TempDir dir;
  test::write_file(dir / "c.yaml", job_config(dir.path(), "spam", 4, 4));
  Job job(dir.path(), 2, [&](int r) { return "train " + (dir / "c.yaml").string() + (r == 1 ? " --set trainer.lr=0.5" : ""); });
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(job.wait(r), 2) << job.log(r);
    EXPECT_NE(job.log(r).find("rank 1 has another config"), std::string::npos) << job.log(r);
  }
}

// A rank that dies (SIGKILL) or hangs (SIGSTOP): the survivor exits 1 with a clear message
// within dist.timeout_s, and the last committed checkpoint stays usable.
class LostRank : public ::testing::TestWithParam<int> {};

TEST_P(LostRank, TheSurvivorFailsClearlyWithinTheTimeout) {
  const int signal = GetParam();
  const double timeout_s = 5;
  test::TempDir dir;
  test::write_file(dir / "c.yaml", job_config(dir.path(), "spam", 4, 100000, timeout_s));
  Job job(dir.path(), 2, [&](int) { return "train " + (dir / "c.yaml").string(); });
  ASSERT_TRUE(wait_for([&] { return fs::exists(dir / "r" / "checkpoints" / "step_000004"); }, 120)) << job.log(0);
  kill(job.pid(1), signal);
  const auto lost = Clock::now();
  const int code = job.wait(0, timeout_s + 30);
  const double seconds = std::chrono::duration<double>(Clock::now() - lost).count();
  EXPECT_EQ(code, 1) << job.log(0);
  EXPECT_LT(seconds, timeout_s + 15);
  EXPECT_NE(job.log(0).find("rank 0 of 2:"), std::string::npos) << job.log(0);
  EXPECT_NE(job.log(0).find("Another rank has probably stopped or hung"), std::string::npos) << job.log(0);
  EXPECT_EQ(job.log(0).find("terminate called"), std::string::npos) << job.log(0);
  EXPECT_TRUE(checkpoints::CheckpointManager(dir / "r" / "checkpoints", 3).newest_valid().has_value());
  std::printf("%s: the survivor exited %.1f s after rank 1 was lost\n", strsignal(signal), seconds);
}

INSTANTIATE_TEST_SUITE_P(Signals, LostRank, ::testing::Values(SIGKILL, SIGSTOP), [](const auto& info) { return info.param == SIGKILL ? "died" : "hung"; });

// The worker processes of a torchrun job: maskforge processes whose command line names `config`.
std::vector<pid_t> workers_of(const fs::path& config) {
  std::vector<pid_t> pids;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string comm = test::read_file(entry.path() / "comm"), cmdline = test::read_file(entry.path() / "cmdline");
    if (comm.starts_with("maskforge") && cmdline.find(config.string()) != std::string::npos) pids.push_back(std::stoi(name));
  }
  return pids;
}

TEST(DataParallel, TorchrunLaunchesRestartsAndResumesExactly) {
  if (test::python().empty()) GTEST_SKIP() << "no Python virtualenv (torchrun comes with its torch)";
  const fs::path torchrun = fs::path(test::python()).parent_path() / "torchrun";
  test::TempDir dir;
  const int steps = 40;
  for (const char* name : {"straight", "killed", "restarted"}) test::write_file(dir / (std::string(name) + ".yaml"), job_config(dir / name, "spam", 4, steps));
  fs::create_directories(dir / "logs");
  Job straight(dir / "logs", 2, [&](int) { return "train " + (dir / "straight.yaml").string(); });
  ASSERT_EQ(straight.wait(0), 0) << straight.log(0);
  ASSERT_EQ(straight.wait(1), 0) << straight.log(1);

  auto launch = [&](const std::string& name, const std::string& extra) {
    return fmt::format("cd '{}' && OMP_NUM_THREADS=1 exec setsid '{}' --standalone --nproc-per-node=2 {} --no-python '{}' train '{}' --resume auto > '{}' 2>&1",
                       test::source_dir().string(), torchrun.string(), extra, (test::binary_dir() / "maskforge").string(), (dir / (name + ".yaml")).string(),
                       (dir / (name + ".log")).string());
  };
  // 1. The whole job killed mid-run (torchrun and both workers, SIGKILL), then launched again.
  test::Background killed(launch("killed", ""));
  ASSERT_TRUE(wait_for([&] { return fs::exists(dir / "killed" / "r" / "checkpoints" / "step_000006"); }, 120)) << test::read_file(dir / "killed.log");
  ASSERT_FALSE(fs::exists(dir / "killed" / "r" / "summary.json")) << "the run ended before it could be killed; make it longer";
  kill(-killed.pid(), SIGKILL);  // setsid: torchrun leads its own process group
  for (pid_t w : workers_of(dir / "killed.yaml")) kill(w, SIGKILL);
  killed.wait();
  test::Background again(launch("killed", ""));
  ASSERT_EQ(again.wait(), 0) << test::read_file(dir / "killed.log");
  EXPECT_NE(test::read_file(dir / "killed.log").find("resumed from"), std::string::npos);
  expect_close(test::final_weights(dir / "straight" / "r", "generator"), test::final_weights(dir / "killed" / "r", "generator"), 1e-6);

  // 2. One worker killed: torchrun (--max-restarts 1) restarts the job, which resumes.
  test::Background restarted(launch("restarted", "--max-restarts=1"));
  ASSERT_TRUE(wait_for([&] { return fs::exists(dir / "restarted" / "r" / "checkpoints" / "step_000006"); }, 120)) << test::read_file(dir / "restarted.log");
  auto workers = workers_of(dir / "restarted.yaml");
  ASSERT_EQ(workers.size(), 2u);
  kill(workers.back(), SIGKILL);
  ASSERT_EQ(restarted.wait(), 0) << test::read_file(dir / "restarted.log");
  const std::string log = test::read_file(dir / "restarted.log");
  EXPECT_NE(log.find("resumed from"), std::string::npos) << log;
  expect_close(test::final_weights(dir / "straight" / "r", "generator"), test::final_weights(dir / "restarted" / "r", "generator"), 1e-6);
}

TEST(DataParallel, AFailingWorkerTellsTorchrunWhy) {
  test::TempDir dir;
  test::write_file(dir / "c.yaml", job_config(dir.path(), "spam", 4, 4) + "trainer_typo: 1\n");
  const auto r = test::run_command(fmt::format("cd '{}' && TORCHELASTIC_ERROR_FILE='{}' '{}' train '{}'", test::source_dir().string(),
                                               (dir / "error.json").string(), (test::binary_dir() / "maskforge").string(), (dir / "c.yaml").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  const auto error = nlohmann::json::parse(test::read_file(dir / "error.json"));
  EXPECT_NE(error.at("message").at("message").get<std::string>().find("trainer_typo"), std::string::npos) << error.dump();
}

}  // namespace
}  // namespace mf
