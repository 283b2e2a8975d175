// The maskforge executable: versions, help, exit codes.
#include "tests/support/process.h"

#include <gtest/gtest.h>

namespace mf {
namespace {

using test::run_maskforge;

TEST(Cli, VersionNamesToolkitLibTorchCudaAndGpus) {
  auto r = run_maskforge("--version");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("maskforge 0."), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("LibTorch 2."), std::string::npos);
  EXPECT_NE(r.output.find("CUDA"), std::string::npos);
  EXPECT_NE(r.output.find("GPU"), std::string::npos);
}

TEST(Cli, HelpOnEverySubcommand) {
  for (const char* sub : {"", "train", "export", "protect", "eval", "config", "config show", "config schema"}) {
    auto r = run_maskforge(std::string(sub) + " --help");
    EXPECT_EQ(r.exit_code, 0) << sub << ": " << r.output;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << sub;
  }
}

TEST(Cli, BadUsageExitsTwoWithOneLine) {
  for (const char* args : {"", "frobnicate", "config show", "--log-level loud config schema", "config show a.yaml --bogus"}) {
    auto r = run_maskforge(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.output;
    EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace mf
