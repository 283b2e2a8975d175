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
  s.observe(-1.0, 0.1);  // ratio 10 > 2: adversarial side strong, spend less budget
  EXPECT_LT(s.value(1), start);
  for (int i = 0; i < 100; ++i) s.observe(-0.01, 1.0);  // ratio 0.01 < 2: spend more, up to max
  EXPECT_DOUBLE_EQ(s.value(2), 0.05);
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
    auto a = r.apply(xi, 7, &metrics);
    EXPECT_EQ(a.sizes(), x.sizes()) << name;
    EXPECT_EQ(metrics.count(std::string("robustness/") + name), 1u) << name;
    EXPECT_TRUE(torch::equal(a, r.apply(x, 7))) << name << " is not a function of the seed";
    EXPECT_FALSE(torch::equal(a, x)) << name << " changed nothing";
    a.sum().backward();
    EXPECT_GT(xi.grad().abs().sum().item<double>(), 0) << name;
  }
  Robustness never({read<TransformConfig>("{name: blur, p: 0}")});
  EXPECT_TRUE(torch::equal(never.apply(x, 3), x));
  EXPECT_THROW(read<TransformConfig>("{name: jpeg, quality: [90, 50]}"), InputError);
}

}  // namespace
}  // namespace mf::losses
