// Generators: bounded output, any input size, gradients to every parameter.
#include "networks/generator.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mf::networks {
namespace {

struct Case {
  std::string arch, norm;
  int64_t noise = 0;
};

GeneratorConfig config_of(const Case& c) {
  GeneratorConfig g;
  g.arch = c.arch;
  g.norm = c.norm;
  if (c.arch == "resnet") g.options = config::Options::of(ResnetOptions{.width = 8, .blocks = 2});
  else g.options = config::Options::of(UnetOptions{.width = 8, .depth = 4, .noise_channels = c.noise});
  return g;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.arch << "/" << c.norm; }

class Generators : public ::testing::TestWithParam<Case> {};

TEST_P(Generators, OutputIsBoundedByEpsForAnySize) {
  torch::manual_seed(0);
  auto g = build_generator(config_of(GetParam()));
  for (auto [h, w] : {std::pair{32, 32}, {37, 23}, {5, 70}, {64, 48}}) {
    auto x = torch::rand({2, 3, h, w});
    const double eps = 8.0 / 255;
    // Push the raw output to saturation: the bound must still hold.
    auto delta = g->forward(x * 50, torch::tensor(eps));
    EXPECT_EQ(delta.sizes(), x.sizes()) << h << "x" << w;
    EXPECT_LE(delta.abs().max().item<double>(), eps + 1e-7);
  }
}

TEST_P(Generators, EpsMayBePerImageOrPerPixel) {
  auto g = build_generator(config_of(GetParam()));
  auto x = torch::rand({2, 3, 16, 16});
  auto per_image = g->forward(x, torch::tensor({0.01f, 0.0f}));
  EXPECT_LE(per_image[0].abs().max().item<float>(), 0.01f + 1e-7);
  EXPECT_EQ(per_image[1].abs().max().item<float>(), 0.0f);
  auto map = torch::zeros({2, 1, 16, 16});
  map.slice(3, 0, 8).fill_(0.02);
  auto per_pixel = g->forward(x, map);
  EXPECT_EQ(per_pixel.slice(3, 8).abs().max().item<float>(), 0.0f);
  EXPECT_GT(per_pixel.slice(3, 0, 8).abs().max().item<float>(), 0.0f);
}

TEST_P(Generators, GradientsReachEveryParameter) {
  auto g = build_generator(config_of(GetParam()));
  g->train();
  auto x = torch::rand({2, 3, 24, 24});
  g->forward(x, torch::tensor(0.1)).pow(2).sum().backward();
  for (const auto& p : g->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0) << p.key();
  }
  EXPECT_GT(g->parameter_count(), 1000);
  EXPECT_GT(g->macs_per_megapixel(), 1e6);
}

INSTANTIATE_TEST_SUITE_P(All, Generators,
                         ::testing::Values(Case{"resnet", "instance"}, Case{"resnet", "batch"}, Case{"resnet", "none"}, Case{"unet", "instance"},
                                           Case{"unet", "none", 2}),
                         [](const auto& info) { return info.param.arch + "_" + info.param.norm + (info.param.noise ? "_noise" : ""); });

TEST(UnetGenerator, NoiseChannelsMakeOutputsDiffer) {
  auto g = build_generator(config_of({"unet", "instance", 4}));
  auto x = torch::rand({1, 3, 32, 32});
  EXPECT_FALSE(torch::equal(g->forward(x, torch::tensor(0.1)), g->forward(x, torch::tensor(0.1))));
}

TEST(ResnetGenerator, OperationCountMatchesTheArchitecture) {
  auto g = build_generator(config_of({"resnet", "none"}));
  // width 8: stem 3->8 7x7, down 8->16 and 16->32 (3x3, s2), 2 blocks of two 32->32 3x3 at 1/4
  // resolution, up 32->16 at 1/2 and 16->8 at full, head 8->3 7x7.
  const double per_pixel = 3 * 8 * 49 + 8 * 16 * 9 * 0.25 + 16 * 32 * 9 / 16.0 + 4 * 32 * 32 * 9 / 16.0 + 32 * 16 * 9 * 0.25 +
                           16 * 8 * 9 + 8 * 3 * 49;
  EXPECT_DOUBLE_EQ(g->macs_per_megapixel(), per_pixel * 1e6);
}

}  // namespace
}  // namespace mf::networks
