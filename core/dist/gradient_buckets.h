// Averages the gradients of a set of parameters across the ranks of a Context, in
// size-bounded buckets, as data-parallel training needs after each backward.
//
// Buckets are filled in reverse parameter order, the order in which backward produces the
// gradients. After arm(), each parameter's gradient accumulator reports when its gradient
// is in .grad; a bucket whose gradients are all there starts its all-reduce at once, so
// communication overlaps the rest of backward. finish() starts the buckets that did not
// fill (gradients set by hand, as pcgrad does, or parameters without a gradient), waits,
// and writes the averages back. Arm only before the last backward of a step: gradient
// accumulation micro-steps before it reduce nothing.
#pragma once

#include "core/dist/context.h"

#include <ATen/core/Tensor.h>

#include <memory>
#include <mutex>
#include <vector>

namespace mf::dist {

class GradientBuckets {
 public:
  GradientBuckets(Context& context, std::vector<at::Tensor> parameters, double bucket_mb);
  ~GradientBuckets();
  GradientBuckets(const GradientBuckets&) = delete;
  GradientBuckets& operator=(const GradientBuckets&) = delete;

  // The next backward is the last of this step: start reductions as gradients arrive.
  void arm();
  // Every gradient is the average over the ranks when this returns.
  void finish();

  int64_t bucket_count() const { return static_cast<int64_t>(buckets_.size()); }
  // Buckets started from backward's hooks (not by finish()) in the last step.
  int64_t started_in_backward() const { return started_in_backward_; }

 private:
  struct Bucket;
  struct Accumulators;
  void gradient_ready(size_t parameter);
  void start(Bucket& bucket);

  Context& context_;
  std::vector<at::Tensor> parameters_;
  std::vector<std::unique_ptr<Bucket>> buckets_;
  std::vector<size_t> bucket_of_;
  std::unique_ptr<Accumulators> accumulators_;  // keep the hooks alive
  std::mutex mutex_;
  bool armed_ = false;
  int64_t started_in_backward_ = 0;
};

}  // namespace mf::dist
