// The one translation unit that includes c10d (see context.h).
//
// Gloo: ProcessGroupGloo.hpp includes gloo's own headers, which the torch wheel does not
// ship. They come from Debian's libgloo-dev, an older gloo than the one built into
// libtorch_cpu. That is sound because this file touches ProcessGroupGloo only where its ABI
// does not depend on gloo's headers: gloo types appear in the class only behind pointers
// (so its size and layout are torch's own), and this file calls only functions libtorch
// exports (the constructor, Options::create_default) and virtuals of c10d::Backend. It
// never constructs, calls or inlines anything of gloo's. The test
// `dist_gloo_abi_boundary` checks the compiled object: no symbol of namespace gloo, and
// no inline code of ProcessGroupGloo::GlooStore, defined or referenced.
#define USE_C10D_GLOO
#ifdef MF_WITH_NCCL
#define USE_C10D_NCCL
#endif

#include "core/dist/context.h"

#include "core/error.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef MF_WITH_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cstdlib>

namespace mf::dist {

struct Context::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
};

namespace {

// c10d's messages carry C++ backtraces, and gloo's its source location and advice; the
// first sentence says what happened.
std::string first_line(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  text = text.substr(0, text.find('\n'));
  if (text.starts_with('[') && text.find("] ") != std::string::npos) text = text.substr(text.find("] ") + 2);
  return text.substr(0, text.find(". This is typically"));
}

template <class Fn>
auto guarded(const Launch& launch, const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    fail_runtime("rank {} of {}: {} failed: {}. Another rank has probably stopped or hung (see dist.timeout_s)", launch.rank, launch.world_size, what,
                 first_line(e));
  }
}

class WorkPending final : public Pending {
 public:
  WorkPending(c10::intrusive_ptr<c10d::Work> work, const Launch& launch) : work_(std::move(work)), launch_(launch) {}
  void wait() override {
    guarded(launch_, "all-reduce", [&] { return work_->wait(); });
  }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  Launch launch_;
};

class Done final : public Pending {
 public:
  void wait() override {}
};

std::string choose_backend(const std::string& setting, const c10::Device& device) {
  const std::string backend = setting == "auto" ? (device.is_cuda() ? "nccl" : "gloo") : setting;
  if (backend == "nccl" && !device.is_cuda()) fail_input("dist.backend: nccl needs run.device cuda; this run is on {}", device.str());
#ifndef MF_WITH_NCCL
  if (backend == "nccl") fail_input("dist.backend: this build of maskforge has no NCCL (it was configured without nccl.h); use gloo");
#endif
  return backend;
}

}  // namespace

Context::Context() = default;
Context::~Context() = default;

Context::Context(const Launch& launch, const DistConfig& config, const c10::Device& device) : launch_(launch), device_(device) {
  if (!launch.distributed()) return;
  backend_ = choose_backend(config.backend, device);
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(config.timeout_s * 1000));
  group_ = std::make_unique<Group>();
  guarded(launch_, fmt::format("joining the job at {}:{}", launch.master_addr, launch.master_port).c_str(), [&] {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(launch.master_port);
    options.isServer = !launch.agent_store && launch.rank == 0;
    options.numWorkers = static_cast<size_t>(launch.world_size);
    options.waitWorkers = false;
    options.timeout = timeout;
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(launch.master_addr, options);
    // Under torchrun's agent store, each restart of the job gets its own keys (as Python's
    // torch.distributed does).
    if (launch.agent_store) store = c10::make_intrusive<c10d::PrefixStore>(fmt::format("/worker/attempt_{}", launch.restart_count), store);
    group_->store = c10::make_intrusive<c10d::PrefixStore>("maskforge", store);
    auto backend_store = c10::make_intrusive<c10d::PrefixStore>("backend", group_->store);
    if (backend_ == "gloo") {
      group_->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(backend_store, static_cast<int>(launch.rank), static_cast<int>(launch.world_size),
                                                                   c10d::ProcessGroupGloo::Options::create_default(timeout));
    } else {
#ifdef MF_WITH_NCCL
      c10::cuda::set_device(device.index());
      // A dead or hung rank must end the job as under Gloo: wait() throws after the timeout
      // (caught by guarded: one clear line, exit 1), instead of the watchdog thread aborting
      // the process with a stack dump. The cost: the CPU waits for each all-reduce to finish.
      // Set in the environment to choose otherwise.
      setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
      setenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", "0", 0);
      auto nccl = c10d::ProcessGroupNCCL::Options::create();
      nccl->timeout = timeout;
      group_->backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(backend_store, static_cast<int>(launch.rank), static_cast<int>(launch.world_size), nccl);
#endif
    }
    return 0;
  });
}

std::unique_ptr<Pending> Context::start_sum(const at::Tensor& t) {
  if (!group_) return std::make_unique<Done>();
  std::vector<at::Tensor> tensors{t};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  return std::make_unique<WorkPending>(guarded(launch_, "all-reduce", [&] { return group_->backend->allreduce(tensors, options); }), launch_);
}

namespace {

// Runs `op` on a copy of `t` on `device` (NCCL reduces CUDA tensors only) and copies back.
void on_device(const at::Tensor& t, const c10::Device& device, const std::function<void(at::Tensor&)>& op) {
  at::Tensor work = t.to(device).contiguous();
  op(work);
  if (!work.is_same(t)) t.copy_(work);
}

}  // namespace

void Context::sum(const at::Tensor& t) {
  if (!group_) return;
  on_device(t, device_, [&](at::Tensor& w) { start_sum(w)->wait(); });
}

void Context::max(const at::Tensor& t) {
  if (!group_) return;
  on_device(t, device_, [&](at::Tensor& w) {
    std::vector<at::Tensor> tensors{w};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::MAX;
    guarded(launch_, "all-reduce", [&] { return group_->backend->allreduce(tensors, options)->wait(); });
  });
}

void Context::broadcast(const at::Tensor& t, int64_t root) {
  if (!group_) return;
  on_device(t, device_, [&](at::Tensor& w) {
    std::vector<at::Tensor> tensors{w};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    guarded(launch_, "broadcast", [&] { return group_->backend->broadcast(tensors, options)->wait(); });
  });
}

std::vector<std::string> Context::all_gather(const std::string& key, const std::string& value) {
  if (!group_) return {value};
  // Every rank makes the same exchanges in the same order, so a count keeps the keys of
  // one exchange apart from the next one's.
  const std::string prefix = fmt::format("exchange/{}/{}", exchanges_++, key);
  return guarded(launch_, "exchanging data through the store", [&] {
    auto& store = *group_->store;
    store.set(fmt::format("{}/{}", prefix, launch_.rank), std::vector<uint8_t>(value.begin(), value.end()));
    std::vector<std::string> all;
    for (int64_t r = 0; r < launch_.world_size; ++r) {
      auto bytes = store.get(fmt::format("{}/{}", prefix, r));
      all.emplace_back(bytes.begin(), bytes.end());
    }
    // The last rank to read them deletes them.
    if (store.add(prefix + "/read", 1) == launch_.world_size) {
      for (int64_t r = 0; r < launch_.world_size; ++r) store.deleteKey(fmt::format("{}/{}", prefix, r));
      store.deleteKey(prefix + "/read");
    }
    return all;
  });
}

void Context::require_same(const std::string& what, const std::string& value) {
  if (!group_) return;
  const auto all = all_gather("same/" + what, value);
  for (int64_t r = 1; r < world_size(); ++r) {
    if (all[static_cast<size_t>(r)] != all[0]) {
      fail_input("rank {} has another {} than rank 0 ({} vs {}); every rank must run the same one", r, what, all[static_cast<size_t>(r)].substr(0, 16),
                 all[0].substr(0, 16));
    }
  }
}

void Context::barrier() {
  if (!group_) return;
  sum(at::zeros({1}));
}

}  // namespace mf::dist
