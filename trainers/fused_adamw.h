// FusedAdamW: LibTorch's AdamW (same options, same per-parameter state, so checkpoints of
// either load into the other) whose step() updates every parameter of a group in one
// ATen call (`_fused_adamw_`) instead of ~10 tensor operations per parameter: one kernel
// launch per group on a GPU, one vectorised pass over each tensor on a CPU.
#pragma once

#include <torch/optim/adamw.h>

namespace mf::trainers {

class FusedAdamW final : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  // Closures are refused: the trainers compute gradients before calling step().
  at::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace mf::trainers
