// CapturedStep: a training step's forward and backward replayed as one CUDA graph
// (trainer.cuda_graphs). A fixed-shape step launches hundreds of small kernels; replaying
// them as a graph removes the CPU's launch cost, which dominates small generators on fast GPUs.
//
// The first `warmup` calls run eagerly on a side stream (cuDNN picks its algorithms, the
// caching allocator and autograd settle); the next one captures the step on static input
// buffers and replays it; every later call copies its batch into those buffers and replays.
// Gradients are set to none before the capture, so the captured backward writes them
// into the graph's own memory, where every replay refreshes them: they must not be zeroed or
// dropped between steps. Everything the step computes from the host (eps, seeds) is frozen
// at capture; the trainer refuses configs whose step changes that way (check_cuda_graphs).
#pragma once

#include "data/loader.h"
#include "losses/metrics.h"
#include "protection/config.h"

#include <functional>
#include <memory>
#include <vector>

namespace mf::trainers {

// Refuses, with the reason, a config whose step a graph cannot replay: data-parallel jobs,
// gradient accumulation, pcgrad, an eps schedule other than constant, robustness transforms
// (their random parameters are drawn on the host), detector and MLLM victims (their terms
// read values on the host), and a device other than CUDA.
void check_capturable(const protection::Config& config, const c10::Device& device, int64_t world_size);

class CapturedStep {
 public:
  using Step = std::function<losses::StepMetrics(const data::Batch& batch)>;
  explicit CapturedStep(int64_t warmup = 3);
  ~CapturedStep();
  CapturedStep(const CapturedStep&) = delete;
  CapturedStep& operator=(const CapturedStep&) = delete;

  // Runs `step` on `batch` (already on the GPU): eagerly, by capturing it, or by replay.
  // `parameters`: the trained ones, whose gradients the step writes.
  losses::StepMetrics run(const data::Batch& batch, const std::vector<at::Tensor>& parameters, const Step& step);

 private:
  struct Graph;
  int64_t warmup_, calls_ = 0;
  std::unique_ptr<Graph> graph_;
};

}  // namespace mf::trainers
