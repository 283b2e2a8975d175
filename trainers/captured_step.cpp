#include "trainers/captured_step.h"

#include "core/error.h"
#include "core/log.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#ifdef MF_WITH_CUDA
// Streams and events through c10's device-generic interfaces: the CUDA ones call the CUDA
// runtime inline, which maskforge must not link (it would shadow the one LibTorch loads).
#include <ATen/cuda/CUDAGraph.h>
#include <c10/core/Event.h>
#include <c10/core/StreamGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace mf::trainers {

void check_capturable(const protection::Config& config, const c10::Device& device, int64_t world_size) {
  const auto refuse = [](const std::string& why) { fail_input("trainer.cuda_graphs replays one fixed step; {}: turn one of them off", why); };
  if (world_size > 1) refuse(fmt::format("a job of {} ranks reduces gradients between steps", world_size));
  if (config.trainer.grad_accum > 1) refuse("trainer.grad_accum > 1 runs several micro-steps");
  if (config.trainer.combine != "sum") refuse("trainer.combine pcgrad decides on the host");
  if (config.eps.schedule != "constant") refuse(fmt::format("eps.schedule {} changes eps on the host", config.eps.schedule));
  if (!config.robustness.empty()) refuse("robustness transforms draw their parameters on the host");
  for (const auto& v : config.victims) {
    if (v.kind == "detector" || v.kind == "mllm") refuse(fmt::format("the {} victim '{}' has terms that read values on the host", v.kind, v.name));
  }
  if (!device.is_cuda()) fail_input("trainer.cuda_graphs needs a CUDA device; run.device resolved to {}", device.str());
}

#ifdef MF_WITH_CUDA

struct CapturedStep::Graph {
  at::cuda::CUDAGraph graph;
  data::Batch inputs;             // the static buffers the graph reads
  losses::StepMetrics metrics;    // the static tensors the graph writes
};

namespace {

// Autocast must cast the weights inside the graph on every replay, not reuse casts cached
// before it (they would hold the weights of the step that made them).
class NoAutocastCache {
 public:
  NoAutocastCache() : was_(at::autocast::is_autocast_cache_enabled()) { at::autocast::set_autocast_cache_enabled(false); }
  ~NoAutocastCache() { at::autocast::set_autocast_cache_enabled(was_); }

 private:
  bool was_;
};

// Work queued on `waiter` from now on starts after what `on` has queued so far.
void wait_for(const c10::Stream& waiter, const c10::Stream& on) {
  c10::Event done(c10::DeviceType::CUDA);
  done.record(on);
  done.block(waiter);
}

}  // namespace

CapturedStep::CapturedStep(int64_t warmup) : warmup_(warmup) {}
CapturedStep::~CapturedStep() = default;

losses::StepMetrics CapturedStep::run(const data::Batch& batch, const std::vector<at::Tensor>& parameters, const Step& step) {
  if (!batch.images.is_cuda()) fail_input("trainer.cuda_graphs needs the batches on a CUDA device");
  if (graph_) {
    graph_->inputs.images.copy_(batch.images, /*non_blocking=*/true);
    graph_->inputs.labels.copy_(batch.labels, true);
    graph_->inputs.face_boxes.copy_(batch.face_boxes, true);
    graph_->graph.replay();
    return graph_->metrics;
  }
  NoAutocastCache no_cache;
  const c10::Stream main = c10::cuda::getCurrentCUDAStream().unwrap();
  const c10::Stream side = c10::cuda::getStreamFromPool().unwrap();
  wait_for(side, main);  // the batch's copy, and the last optimizer step, come first
  losses::StepMetrics out;
  {
    c10::StreamGuard on_side(side);
    for (const auto& p : parameters) p.mutable_grad() = at::Tensor();
    if (calls_++ < warmup_) {
      out = step(batch);
    } else {
      graph_ = std::make_unique<Graph>();
      graph_->inputs = batch;
      graph_->inputs.images = batch.images.clone(at::MemoryFormat::Preserve);
      graph_->inputs.labels = batch.labels.clone();
      graph_->inputs.face_boxes = batch.face_boxes.clone();
      // Thread-local: the loader's threads pin batches meanwhile (cudaHostAlloc), which
      // invalidates a global-mode capture, as the H200 showed (README, GPU status).
      graph_->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
      graph_->metrics = step(graph_->inputs);
      graph_->graph.capture_end();
      graph_->graph.replay();  // capturing ran nothing: this step is the first replay
      out = graph_->metrics;
      log::info("captured the training step as a CUDA graph after {} eager steps", warmup_);
    }
  }
  wait_for(main, side);
  return out;
}

#else

struct CapturedStep::Graph {};

CapturedStep::CapturedStep(int64_t) { fail_input("trainer.cuda_graphs: this build of maskforge has no CUDA"); }
CapturedStep::~CapturedStep() = default;
losses::StepMetrics CapturedStep::run(const data::Batch&, const std::vector<at::Tensor>&, const Step&) { return {}; }

#endif

}  // namespace mf::trainers
