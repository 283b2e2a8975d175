// Reading a job's layout from the launcher's environment: torchrun, SLURM, none.
#include "core/dist/launch.h"
#include "core/error.h"

#include <gtest/gtest.h>

#include <map>

namespace mf::dist {
namespace {

Launch read(const std::map<std::string, std::string>& env) {
  return read_launch([&](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional(it->second);
  });
}

TEST(Launch, NoLauncherIsASingleProcess) {
  auto l = read({});
  EXPECT_EQ(l.launcher, "none");
  EXPECT_FALSE(l.distributed());
  EXPECT_EQ(l.world_size, 1);
}

TEST(Launch, ALaunchedJobOfOneRankIsDistributed) {
  auto l = read({{"RANK", "0"}, {"WORLD_SIZE", "1"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29400"}});
  EXPECT_EQ(l.launcher, "torchrun");
  EXPECT_EQ(l.world_size, 1);
  EXPECT_TRUE(l.distributed());
}

TEST(Launch, TorchrunWithTheAgentStore) {
  auto l = read({{"RANK", "5"}, {"WORLD_SIZE", "16"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "8"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29400"},
                 {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"TORCHELASTIC_RESTART_COUNT", "2"}});
  EXPECT_EQ(l.launcher, "torchrun");
  EXPECT_EQ(l.rank, 5);
  EXPECT_EQ(l.world_size, 16);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.local_world_size, 8);
  EXPECT_EQ(l.master_addr, "node7");
  EXPECT_EQ(l.master_port, 29400);
  EXPECT_TRUE(l.agent_store);
  EXPECT_EQ(l.restart_count, 2);
}

TEST(Launch, TorchrunWithoutTheAgentStoreHasRankZeroServeTheStore) {
  auto l = read({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "29500"}, {"TORCHELASTIC_USE_AGENT_STORE", "False"}});
  EXPECT_FALSE(l.agent_store);
  EXPECT_EQ(l.local_rank, 0);
  EXPECT_EQ(l.master_addr, "127.0.0.1");
}

TEST(Launch, Slurm) {
  auto l = read({{"SLURM_PROCID", "9"}, {"SLURM_NTASKS", "16"}, {"SLURM_LOCALID", "1"}, {"SLURM_NTASKS_PER_NODE", "8"},
                 {"SLURM_JOB_NODELIST", "gpu[007-008]"}, {"SLURM_JOB_ID", "123456"}});
  EXPECT_EQ(l.launcher, "slurm");
  EXPECT_EQ(l.rank, 9);
  EXPECT_EQ(l.world_size, 16);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.local_world_size, 8);
  EXPECT_EQ(l.master_addr, "gpu007");
  EXPECT_EQ(l.master_port, 10000 + 123456 % 50000);
  // MASTER_ADDR and MASTER_PORT, when the job script sets them, win.
  auto m = read({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_TASKS_PER_NODE", "2(x1)"}, {"MASTER_ADDR", "head"}, {"MASTER_PORT", "4000"}});
  EXPECT_EQ(m.master_addr, "head");
  EXPECT_EQ(m.master_port, 4000);
  EXPECT_EQ(m.local_world_size, 2);
}

TEST(Launch, SlurmNodeLists) {
  EXPECT_EQ(first_slurm_host("n1"), "n1");
  EXPECT_EQ(first_slurm_host("n1,n2"), "n1");
  EXPECT_EQ(first_slurm_host("gpu[003-006,9]"), "gpu003");
  EXPECT_EQ(first_slurm_host("a[1-2],b3"), "a1");
  EXPECT_EQ(first_slurm_host("b3,a[1-2]"), "b3");
}

TEST(Launch, BadValuesNameTheVariable) {
  auto message = [](const std::map<std::string, std::string>& env) {
    try {
      read(env);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({{"RANK", "x"}, {"WORLD_SIZE", "2"}}).find("RANK=x"), std::string::npos);
  EXPECT_NE(message({{"RANK", "2"}, {"WORLD_SIZE", "2"}}).find("rank 2 is not below the world size 2"), std::string::npos);
  EXPECT_NE(message({{"RANK", "0"}}).find("RANK and WORLD_SIZE"), std::string::npos);
  EXPECT_NE(message({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}).find("MASTER_PORT"), std::string::npos);
}

}  // namespace
}  // namespace mf::dist
