// The eps schedules, ratio control, texture scaling and the robustness transforms.
#include "core/config/config.h"
#include "data/image_io.h"
#include "losses/eps.h"
#include "losses/robustness.h"
#include "tests/support/images.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mf::losses {
namespace {

template <class T>
T read(const std::string& yaml) {
  YAML::Node node = YAML::Load(yaml);
  config::Source source{"test", {}};
  config::Reader reader(node, "", source);
  T value;
  value.visit(reader);
  reader.finish();
  return value;
}

TEST(EpsSchedule, ConstantLinearAndCosine) {
  EXPECT_DOUBLE_EQ(EpsSchedule(read<EpsConfig>("{schedule: constant, value: 8/255}")).value(123), 8.0 / 255);
  EpsSchedule linear(read<EpsConfig>("{schedule: linear, start: 0.01, end: 0.03, steps: 100}"));
  EXPECT_DOUBLE_EQ(linear.value(0), 0.01);
  EXPECT_DOUBLE_EQ(linear.value(50), 0.02);
  EXPECT_DOUBLE_EQ(linear.value(500), 0.03);
  EpsSchedule cosine(read<EpsConfig>("{schedule: cosine, start: 0.0, end: 0.04, steps: 100}"));
  EXPECT_NEAR(cosine.value(50), 0.02, 1e-12);
  EXPECT_LT(cosine.value(10), 0.004);  // slow start
}

TEST(EpsSchedule, RatioControlHoldsTheRatio) {
  EpsSchedule s(read<EpsConfig>("{schedule: ratio, value: 0.03, target: 2, rate: 0.1, min: 0.01, max: 0.05}"));
  const double start = s.value(0);
  s.observe(-0.2, 0.1);  // the first step sets where the attack started
  s.observe(-1.2, 0.1);  // progress 1: ratio 10 > 2, adversarial side strong, spend less budget
  EXPECT_LT(s.value(1), start);
  for (int i = 0; i < 100; ++i) s.observe(-0.21, 1.0);  // progress 0.01, ratio 0.01 < 2: spend more, up to max
  EXPECT_DOUBLE_EQ(s.value(2), 0.05);
}

// Terms whose value falls towards 0 as the attack succeeds (targeted CE, refusal NLL,
// detection scores) or crosses 0 (cosine similarity): a failing attack must get more
// budget, a succeeding one less, as for untargeted CE.
TEST(EpsSchedule, RatioControlFollowsTheAttackWhateverTheSignOfItsLoss) {
  const auto config = read<EpsConfig>("{schedule: ratio, value: 0.03, target: 1, rate: 0.1, min: 0.01, max: 0.05}");
  EpsSchedule failing(config), succeeding(config), dodging(config);
  for (int i = 0; i < 5; ++i) failing.observe(5.0, 0.1);  // stuck at its first value
  EXPECT_GT(failing.value(5), 0.03);
  succeeding.observe(5.0, 0.1);
  succeeding.observe(0.5, 0.1);  // fell by 4.5: strong against quality 0.1
  EXPECT_LT(succeeding.value(2), 0.03);
  dodging.observe(0.9, 0.1);
  dodging.observe(-0.5, 0.1);  // cosine similarity 0.9 -> -0.5
  EXPECT_LT(dodging.value(2), 0.03);
}

TEST(EpsSchedule, TextureScalingIsMeanPreservingAndCapped) {
  EpsSchedule s(read<EpsConfig>("{schedule: constant, value: 0.03, scaling: texture, max_factor: 2}"));
  auto x = data::to_tensor(test::picture(64, 64, 5)).unsqueeze(0);
  x.slice(3, 0, 32).fill_(0.5);  // a flat left half
  auto map = s.budget(x, 0);
  EXPECT_EQ(map.sizes(), (torch::IntArrayRef{1, 1, 64, 64}));
  EXPECT_NEAR(map.mean().item<double>(), 0.03, 0.03 * 0.05);
  EXPECT_LE(map.max().item<double>(), 0.06 + 1e-9);
  EXPECT_LT(map.slice(3, 0, 24).mean().item<double>(), map.slice(3, 40).mean().item<double>());  // less where flat
}

TEST(EpsSchedule, TextureScalingBelowMeanOneKeepsEpsTheBound) {
  EpsSchedule s(read<EpsConfig>("{schedule: constant, value: 0.03, scaling: texture, max_factor: 1, mean: 0.6}"));
  auto x = data::to_tensor(test::picture(64, 64, 5)).unsqueeze(0);
  x.slice(3, 0, 32).fill_(0.5);
  auto map = s.budget(x, 0);
  EXPECT_NEAR(map.mean().item<double>(), 0.6 * 0.03, 0.03 * 0.05);
  EXPECT_LE(map.max().item<double>(), 0.03 + 1e-9);
  EXPECT_DOUBLE_EQ(s.bound(0), 0.03);
  EXPECT_LT(map.slice(3, 0, 24).mean().item<double>(), map.slice(3, 40).mean().item<double>());
}

// full_std: a flat image no longer gets `mean` by spreading budget over its flat parts;
// a busy one keeps it.
TEST(EpsSchedule, TextureScalingWithFullStdSpendsLessOnFlatImages) {
  EpsSchedule s(read<EpsConfig>("{schedule: constant, value: 0.03, scaling: texture, max_factor: 1, mean: 0.8, full_std: 0.05}"));
  EpsSchedule unbounded(read<EpsConfig>("{schedule: constant, value: 0.03, scaling: texture, max_factor: 1, mean: 0.8}"));
  auto busy = data::to_tensor(test::picture(32, 32, 6)).unsqueeze(0);
  auto flat = 0.5 + 0.02 * (busy - 0.5);  // the same picture at 2 % of its contrast
  EXPECT_NEAR(s.budget(busy, 0).mean().item<double>(), 0.8 * 0.03, 0.03 * 0.05);
  EXPECT_NEAR(unbounded.budget(flat, 0).mean().item<double>(), 0.8 * 0.03, 0.03 * 0.05);
  EXPECT_LT(s.budget(flat, 0).mean().item<double>(), 0.2 * 0.03);
}

TEST(EpsSchedule, BadRangesAreConfigErrors) {
  EXPECT_THROW(read<EpsConfig>("{schedule: constant, scaling: texture, max_factor: 1, mean: 1.5}"), InputError);
  EXPECT_THROW(read<EpsConfig>("{schedule: ratio, min: 0.1, max: 0.05}"), InputError);
  EXPECT_THROW(read<EpsConfig>("{schedule: linear, value: 0.1}"), InputError);  // value belongs to constant
}

TEST(Robustness, TransformsKeepTheSizeAreDeterministicAndDifferentiable) {
  auto x = data::to_tensor(test::picture(40, 30, 1)).unsqueeze(0).repeat({2, 1, 1, 1});
  for (const char* name : {"jpeg", "resize", "crop", "blur", "noise"}) {
    Robustness r({read<TransformConfig>(std::string("{name: ") + name + ", p: 1}")});
    auto xi = x.clone().requires_grad_();
    std::map<std::string, double> metrics;
    auto a = r.apply(xi, 7, &metrics).images;
    EXPECT_EQ(a.sizes(), x.sizes()) << name;
    EXPECT_EQ(metrics.count(std::string("robustness/") + name), 1u) << name;
    EXPECT_TRUE(torch::equal(a, r.apply(x, 7).images)) << name << " is not a function of the seed";
    EXPECT_FALSE(torch::equal(a, x)) << name << " changed nothing";
    a.sum().backward();
    EXPECT_GT(xi.grad().abs().sum().item<double>(), 0) << name;
  }
  Robustness never({read<TransformConfig>("{name: blur, p: 0}")});
  EXPECT_TRUE(torch::equal(never.apply(x, 3).images, x));
  EXPECT_THROW(read<TransformConfig>("{name: jpeg, quality: [90, 50]}"), InputError);
}

// A bright square on grey, cropped twice: the moved box still frames the square.
TEST(Robustness, CropMovesBoxesWithTheContent) {
  auto x = torch::full({1, 3, 40, 40}, 0.5);
  x.slice(2, 12, 20).slice(3, 16, 26).fill_(1);  // x 16..26, y 12..20
  const auto box = torch::tensor({{16.0, 12.0, 26.0, 20.0}});
  Robustness r({read<TransformConfig>("{name: crop, p: 1, scale: [0.7, 0.9]}"), read<TransformConfig>("{name: crop, p: 1, scale: [0.8, 0.95]}")});
  int64_t moved = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto out = r.apply(x, seed);
    auto b = out.placement.move(box)[0];
    const auto x0 = b[0].item<int64_t>(), y0 = b[1].item<int64_t>(), x1 = b[2].item<int64_t>(), y1 = b[3].item<int64_t>();
    // Inside the moved box the square shows (where it was not cut off); outside it, nothing bright.
    if (x1 > x0 && y1 > y0) {
      EXPECT_TRUE(out.images[0].slice(1, y0, y1).slice(2, x0, x1).eq(1).all().item<bool>()) << "seed " << seed;
    }
    EXPECT_EQ(out.images.eq(1).sum().item<int64_t>(), 3 * (x1 - x0) * (y1 - y0)) << "seed " << seed;
    moved += out.placement.dx != 0 || out.placement.dy != 0;
  }
  EXPECT_GT(moved, 10);
}

}  // namespace
}  // namespace mf::losses
