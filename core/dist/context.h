// dist::Context: this process's place in a data-parallel job and its c10d process group
// (NCCL for CUDA devices, Gloo for CPU), set up from what the launcher put in the
// environment (core/dist/launch.h). A single process gets a Context of world size 1 whose
// collectives do nothing.
//
// Every c10d include is in context.cpp, behind this interface: the rest of maskforge sees
// tensors, strings and errors only. A collective that fails because another rank died, or
// that waits longer than dist.timeout_s for one that hangs, throws a RuntimeError naming
// this rank.
#pragma once

#include "core/dist/dist_config.h"
#include "core/dist/launch.h"

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

namespace mf::dist {

// A collective launched but not yet finished.
class Pending {
 public:
  virtual ~Pending() = default;
  virtual void wait() = 0;
};

class Context {
 public:
  // A single process.
  Context();
  // Joins the job `launch` describes (a single process when it is not distributed).
  Context(const Launch& launch, const DistConfig& config, const c10::Device& device);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int64_t rank() const { return launch_.rank; }
  int64_t world_size() const { return launch_.world_size; }
  int64_t local_rank() const { return launch_.local_rank; }
  bool is_main() const { return launch_.rank == 0; }
  bool distributed() const { return launch_.distributed(); }
  const Launch& launch() const { return launch_; }
  const std::string& backend() const { return backend_; }

  // Sums `t` over the ranks in place. start_sum returns at once; the sum is there after
  // wait(). The tensor must be contiguous and on this rank's device.
  std::unique_ptr<Pending> start_sum(const at::Tensor& t);
  // Blocking sum and max of a tensor on any device (copied to the backend's device).
  void sum(const at::Tensor& t);
  void max(const at::Tensor& t);
  // Rank `root`'s values, in place on every rank.
  void broadcast(const at::Tensor& t, int64_t root = 0);
  // Every rank calls it with its own value and gets all of them, by rank (small data:
  // through the store, not the backend).
  std::vector<std::string> all_gather(const std::string& key, const std::string& value);
  // Fails, on every rank, when the ranks pass different values (e.g. the config's hash).
  void require_same(const std::string& what, const std::string& value);
  // Waits until every rank has arrived.
  void barrier();

 private:
  struct Group;
  Launch launch_;
  std::string backend_ = "none";
  c10::Device device_{c10::kCPU};
  std::unique_ptr<Group> group_;
  int64_t exchanges_ = 0;
};

}  // namespace mf::dist
