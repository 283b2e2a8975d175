// Where this process sits in a distributed job, read from the environment its launcher
// set: torchrun (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// TORCHELASTIC_USE_AGENT_STORE, TORCHELASTIC_RESTART_COUNT) or SLURM's srun (SLURM_PROCID,
// SLURM_LOCALID, SLURM_NTASKS, SLURM_NTASKS_PER_NODE, SLURM_JOB_NODELIST, SLURM_JOB_ID).
// Without either, a single process.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace mf::dist {

struct Launch {
  std::string launcher = "none";  // none, torchrun (or any launcher setting RANK...), slurm
  int64_t rank = 0, world_size = 1;
  int64_t local_rank = 0, local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;
  // torchrun's agent runs the TCPStore server: every worker connects as a client, under a
  // prefix per restart so that a restarted job does not read the keys of the last attempt.
  bool agent_store = false;
  int64_t restart_count = 0;

  // A launched job has a process group, even of one rank (as torch.distributed does): a
  // 1-GPU torchrun job runs NCCL, and scales by changing --nproc-per-node alone.
  bool distributed() const { return launcher != "none"; }
};

// Reads the launch from `getenv` (the process environment by default). Inconsistent or
// malformed values are an InputError naming the variable.
Launch read_launch(const std::function<std::optional<std::string>(const std::string&)>& getenv = {});

// Under torchrun, writes `message` to the error file it names (TORCHELASTIC_ERROR_FILE), so
// that its failure summary shows why this worker stopped. Elsewhere, does nothing.
void record_error_for_launcher(const std::string& message);

// The first host of a SLURM node list: "n1,n2" -> n1, "gpu[003-006,9]" -> gpu003,
// "a[1-2],b3" -> a1.
std::string first_slurm_host(const std::string& nodelist);

}  // namespace mf::dist
