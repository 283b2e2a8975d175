#include "core/dist/launch.h"

#include "core/error.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>

namespace mf::dist {
namespace {

using Getenv = std::function<std::optional<std::string>(const std::string&)>;

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

// The leading integer of `text` ("4(x2)" -> 4), or an InputError naming `name`.
int64_t leading_integer(const std::string& name, const std::string& text, int64_t min) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || value < min) fail_input("environment variable {}={} is not an integer >= {}", name, text, min);
  return value;
}

}  // namespace

std::string first_slurm_host(const std::string& nodelist) {
  const size_t comma = nodelist.find(','), bracket = nodelist.find('[');
  if (bracket == std::string::npos || (comma != std::string::npos && comma < bracket)) return nodelist.substr(0, comma);
  // prefix[003-006,9]: the prefix and the first number, keeping its zero padding.
  const size_t end = nodelist.find_first_of("-,]", bracket + 1);
  if (end == std::string::npos) fail_input("SLURM_JOB_NODELIST={} is not a node list", nodelist);
  return nodelist.substr(0, bracket) + nodelist.substr(bracket + 1, end - bracket - 1);
}

Launch read_launch(const Getenv& getenv_override) {
  const Getenv getenv = getenv_override ? getenv_override : Getenv(process_env);
  auto integer = [&](const std::string& name, int64_t fallback, int64_t min = 0) {
    auto v = getenv(name);
    return v ? leading_integer(name, *v, min) : fallback;
  };
  Launch l;
  if (getenv("RANK") || getenv("WORLD_SIZE")) {
    if (!getenv("RANK") || !getenv("WORLD_SIZE")) fail_input("environment: RANK and WORLD_SIZE must be set together (as torchrun does)");
    l.launcher = "torchrun";
    l.rank = integer("RANK", 0);
    l.world_size = integer("WORLD_SIZE", 1, 1);
    l.local_rank = integer("LOCAL_RANK", l.rank);
    l.local_world_size = integer("LOCAL_WORLD_SIZE", l.world_size, 1);
    l.agent_store = getenv("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
    l.restart_count = integer("TORCHELASTIC_RESTART_COUNT", 0);
  } else if (getenv("SLURM_PROCID") && getenv("SLURM_NTASKS")) {
    l.launcher = "slurm";
    l.rank = integer("SLURM_PROCID", 0);
    l.world_size = integer("SLURM_NTASKS", 1, 1);
    l.local_rank = integer("SLURM_LOCALID", 0);
    l.local_world_size = integer("SLURM_NTASKS_PER_NODE", integer("SLURM_TASKS_PER_NODE", 1, 1), 1);
    if (auto nodes = getenv("SLURM_JOB_NODELIST")) l.master_addr = first_slurm_host(*nodes);
    // Every task of the job derives the same port from the job id.
    l.master_port = 10000 + integer("SLURM_JOB_ID", 19500) % 50000;
  } else {
    return l;
  }
  if (auto addr = getenv("MASTER_ADDR")) l.master_addr = *addr;
  l.master_port = integer("MASTER_PORT", l.master_port, 1);
  if (l.master_port > 65535) fail_input("environment variable MASTER_PORT={} is not a port", l.master_port);
  if (l.rank >= l.world_size) fail_input("environment: rank {} is not below the world size {}", l.rank, l.world_size);
  if (l.local_rank >= l.local_world_size) fail_input("environment: local rank {} is not below the local world size {}", l.local_rank, l.local_world_size);
  return l;
}

void record_error_for_launcher(const std::string& message) {
  const auto file = process_env("TORCHELASTIC_ERROR_FILE");
  if (!file) return;
  // The layout torch.distributed.elastic's error handler writes and torchrun reads.
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const nlohmann::json error = {{"message", {{"message", message}, {"extraInfo", {{"py_callstack", message}, {"timestamp", std::to_string(now)}}}}}};
  std::ofstream(*file) << error.dump();
}

}  // namespace mf::dist
