#include "checkpoints/tensors.h"
#include "tests/support/files.h"
#include "trainers/fused_adamw.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mf::trainers {
namespace {

// Parameters of both layouts, one gradient set by hand in another layout than its parameter.
std::vector<torch::Tensor> parameters() {
  torch::manual_seed(1);
  return {torch::randn({8, 3, 3, 3}).contiguous(at::MemoryFormat::ChannelsLast).requires_grad_(), torch::randn({8}).requires_grad_(),
          torch::randn({4, 8, 1, 1}).requires_grad_()};
}

void set_gradients(std::vector<torch::Tensor>& ps, int step) {
  for (size_t i = 0; i < ps.size(); ++i) {
    torch::manual_seed(100 * step + static_cast<int>(i));
    ps[i].mutable_grad() = torch::randn(ps[i].sizes());  // contiguous, whatever the parameter's layout
  }
}

TEST(FusedAdamW, StepsAsLibTorchsAdamWDoesAndSharesItsCheckpoints) {
  auto options = torch::optim::AdamWOptions(0.01).betas({0.5, 0.99}).weight_decay(0.1);
  auto a = parameters(), b = parameters();
  torch::optim::AdamW reference(a, options);
  FusedAdamW fused(b, options);
  for (int step = 0; step < 5; ++step) {
    set_gradients(a, step), set_gradients(b, step);
    reference.step();
    fused.step();
  }
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-5, 1e-6)) << "parameter " << i;

  // Saved by one, loaded by the other: the same next step.
  test::TempDir dir;
  checkpoints::save_optimizer(fused, dir / "fused.pt");
  auto c = parameters();
  for (size_t i = 0; i < c.size(); ++i) c[i].data().copy_(b[i]);
  torch::optim::AdamW loaded(c, options);
  checkpoints::load_optimizer(loaded, dir / "fused.pt");
  set_gradients(b, 9), set_gradients(c, 9);
  fused.step();
  loaded.step();
  for (size_t i = 0; i < b.size(); ++i) EXPECT_TRUE(torch::allclose(b[i], c[i], 1e-5, 1e-6)) << "parameter " << i;
}

}  // namespace
}  // namespace mf::trainers
