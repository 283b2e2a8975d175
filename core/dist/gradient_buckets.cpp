#include "core/dist/gradient_buckets.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <utility>

namespace mf::dist {

struct GradientBuckets::Bucket {
  std::vector<size_t> members;  // parameter indices
  size_t ready = 0;             // members whose gradient is accumulated this step
  at::Tensor flat;              // the members' gradients, concatenated, while reducing
  std::unique_ptr<Pending> pending;
};

// The parameters' gradient accumulators, which own the hooks. LibTorch 2.11 hands them out as
// shared_ptr, later releases as intrusive_ptr: held as whichever this one returns.
struct GradientBuckets::Accumulators {
  std::vector<decltype(torch::autograd::impl::grad_accumulator(std::declval<at::Tensor>()))> held;
};

GradientBuckets::GradientBuckets(Context& context, std::vector<at::Tensor> parameters, double bucket_mb)
    : context_(context), parameters_(std::move(parameters)), bucket_of_(parameters_.size()), accumulators_(std::make_unique<Accumulators>()) {
  if (!context_.distributed()) return;
  const double cap = bucket_mb * 1024 * 1024;
  double bytes = cap;
  for (size_t i = parameters_.size(); i-- > 0;) {
    if (bytes >= cap) buckets_.push_back(std::make_unique<Bucket>()), bytes = 0;
    buckets_.back()->members.push_back(i);
    bucket_of_[i] = buckets_.size() - 1;
    bytes += static_cast<double>(parameters_[i].numel() * parameters_[i].element_size());
  }
  for (size_t i = 0; i < parameters_.size(); ++i) {
    auto accumulator = torch::autograd::impl::grad_accumulator(parameters_[i]);
    accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [this, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          gradient_ready(i);
          return outputs;
        }));
    accumulators_->held.push_back(std::move(accumulator));
  }
}

GradientBuckets::~GradientBuckets() = default;

void GradientBuckets::arm() {
  std::lock_guard lock(mutex_);
  armed_ = true;
  started_in_backward_ = 0;
  for (auto& b : buckets_) b->ready = 0;
}

void GradientBuckets::gradient_ready(size_t parameter) {
  std::lock_guard lock(mutex_);
  if (!armed_) return;
  Bucket& b = *buckets_[bucket_of_[parameter]];
  if (++b.ready == b.members.size() && !b.pending) {
    start(b);
    ++started_in_backward_;
  }
}

void GradientBuckets::start(Bucket& b) {
  std::vector<at::Tensor> grads;
  for (size_t i : b.members) {
    const auto& g = parameters_[i].grad();
    grads.push_back(g.defined() ? g.reshape(-1) : at::zeros({parameters_[i].numel()}, parameters_[i].options()));
  }
  b.flat = at::cat(grads);
  b.pending = context_.start_sum(b.flat);
}

void GradientBuckets::finish() {
  std::lock_guard lock(mutex_);
  armed_ = false;
  if (!context_.distributed()) return;
  at::NoGradGuard no_grad;
  for (auto& b : buckets_) {
    if (!b->pending) start(*b);
  }
  const double scale = 1.0 / static_cast<double>(context_.world_size());
  for (auto& b : buckets_) {
    b->pending->wait();
    b->pending.reset();
    b->flat.mul_(scale);
    int64_t offset = 0;
    for (size_t i : b->members) {
      auto& p = parameters_[i];
      at::Tensor average = b->flat.slice(0, offset, offset + p.numel()).view(p.sizes());
      offset += p.numel();
      if (p.grad().defined()) p.mutable_grad().copy_(average);
      else p.mutable_grad() = average.clone();
    }
    b->flat = at::Tensor();
  }
}

}  // namespace mf::dist
