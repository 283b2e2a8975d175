// dist::Context and GradientBuckets over a real Gloo process group, with two ranks as two
// threads of this test.
#include "core/dist/context.h"
#include "core/dist/gradient_buckets.h"
#include "core/error.h"
#include "tests/dist/free_port.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <thread>

namespace mf::dist {
namespace {

// Runs fn(rank's context) on two ranks at once; rethrows the first failure.
void on_two_ranks(const std::function<void(Context&)>& fn, double timeout_s = 30) {
  const int port = test::free_port();
  std::exception_ptr errors[2];
  auto rank = [&](int r) {
    try {
      Launch l;
      l.launcher = "test", l.rank = r, l.world_size = 2, l.local_rank = r, l.local_world_size = 2, l.master_port = port;
      Context context(l, DistConfig{.timeout_s = timeout_s}, c10::kCPU);
      fn(context);
    } catch (...) {
      errors[r] = std::current_exception();
    }
  };
  std::thread other(rank, 1);
  rank(0);
  other.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

torch::nn::Sequential small_net() {
  torch::manual_seed(0);
  return torch::nn::Sequential(torch::nn::Linear(8, 16), torch::nn::ReLU(), torch::nn::Linear(16, 4));
}

TEST(GradientBuckets, AverageOverRanksAndStartDuringBackward) {
  // The same weights on both ranks, each rank its own data (made here: the threads share
  // LibTorch's global generator).
  torch::nn::Sequential nets[2] = {small_net(), small_net()};
  torch::Tensor inputs[2] = {torch::randn({5, 8}), torch::randn({5, 8})};
  std::vector<int64_t> started(2), buckets(2);
  on_two_ranks([&](Context& context) {
    auto& net = nets[context.rank()];
    // A tiny bucket cap: one parameter per bucket, so reductions start as gradients arrive.
    GradientBuckets sync(context, net->parameters(), 1e-6);
    sync.arm();
    net->forward(inputs[context.rank()]).pow(2).mean().backward();
    sync.finish();
    started[context.rank()] = sync.started_in_backward();
    buckets[context.rank()] = sync.bucket_count();
  });
  // The expected average, computed here from both ranks' data.
  auto net = small_net();
  for (const auto& x : inputs) (net->forward(x).pow(2).mean() / 2).backward();
  auto params = net->parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    for (int r = 0; r < 2; ++r) {
      EXPECT_TRUE(torch::allclose(nets[r]->parameters()[i].grad(), params[i].grad(), 1e-5, 1e-7)) << "parameter " << i << " rank " << r;
    }
  }
  EXPECT_EQ(buckets[0], 4);
  EXPECT_EQ(started[0], 4) << "every bucket should start from backward's hooks";
}

TEST(GradientBuckets, UnarmedBackwardReducesOnlyAtFinish) {
  // Gradient accumulation: the first micro-step's backward is not armed and reduces
  // nothing; finish() reduces the accumulated sum, including gradients set by hand.
  std::vector<double> seen(2);
  on_two_ranks([&](Context& context) {
    auto w = torch::zeros({3}, torch::requires_grad());
    GradientBuckets sync(context, {w}, 25);
    (w * static_cast<double>(context.rank() + 1)).sum().backward();  // micro-step 1: grad = r + 1
    EXPECT_EQ(sync.started_in_backward(), 0);
    w.mutable_grad().add_(1.0);  // as pcgrad sets gradients by hand
    sync.arm();
    sync.finish();
    seen[context.rank()] = w.grad()[0].item<double>();
  });
  EXPECT_DOUBLE_EQ(seen[0], 2.5);  // ((1 + 1) + (2 + 1)) / 2
  EXPECT_DOUBLE_EQ(seen[1], 2.5);
}

TEST(Context, CollectivesAndStoreExchange) {
  on_two_ranks([&](Context& context) {
    auto t = torch::full({2}, static_cast<double>(context.rank() + 1));
    context.sum(t);
    EXPECT_DOUBLE_EQ(t[0].item<double>(), 3);
    auto m = torch::full({1}, static_cast<double>(context.rank()));
    context.max(m);
    EXPECT_DOUBLE_EQ(m[0].item<double>(), 1);
    auto b = torch::full({1}, static_cast<double>(context.rank() + 7));
    context.broadcast(b);
    EXPECT_DOUBLE_EQ(b[0].item<double>(), 7);
    for (int round = 0; round < 3; ++round) {  // the same key again: no stale values
      auto all = context.all_gather("k", std::to_string(context.rank() * 10 + round));
      ASSERT_EQ(all.size(), 2u);
      EXPECT_EQ(all[0], std::to_string(round));
      EXPECT_EQ(all[1], std::to_string(10 + round));
    }
    context.require_same("answer", "42");
    context.barrier();
  });
}

TEST(Context, DifferentValuesAreRefusedOnEveryRank) {
  std::atomic<int> refused = 0;
  on_two_ranks([&](Context& context) {
    try {
      context.require_same("config", context.rank() == 0 ? "aaaa" : "bbbb");
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("rank 1 has another config than rank 0"), std::string::npos) << e.what();
      ++refused;
    }
  });
  EXPECT_EQ(refused, 2);
}

}  // namespace
}  // namespace mf::dist
