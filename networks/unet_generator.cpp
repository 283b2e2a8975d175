// The `unet` generator: an encoder of `depth` levels (the first at full resolution, each
// next one halving it), a decoder climbing back with skip connections, and optionally
// channels of uniform noise concatenated at the bottleneck, so one image can receive
// different perturbations. depth 6 is the SPAM layout: 6 down blocks, 5 up blocks.
#include "networks/generator.h"


namespace mf::networks {
namespace {

class UnetGenerator final : public Generator {
 public:
  UnetGenerator(const GeneratorConfig& config) : Generator("unet", config) {
    const auto& o = config.options.as<UnetOptions>();
    depth_ = o.depth;
    noise_ = o.noise_channels;
    std::vector<int64_t> ch;
    for (int64_t i = 0; i < depth_; ++i) ch.push_back(o.width << std::min<int64_t>(i, 3));
    for (int64_t i = 0; i < depth_; ++i) {
      const double scale = 1.0 / static_cast<double>(int64_t{1} << i);
      Level l;
      l.down = add_conv(fmt::format("down{}", i), i == 0 ? inputs_ : ch[i - 1], ch[i], 3, i == 0 ? 1 : 2, scale, i == 0);
      l.down_norm = add_norm(fmt::format("down{}_norm", i), ch[i]);
      l.conv = add_conv(fmt::format("down{}_conv", i), ch[i] + (i == depth_ - 1 ? noise_ : 0), ch[i], 3, 1, scale);
      l.conv_norm = add_norm(fmt::format("down{}_conv_norm", i), ch[i]);
      if (i < depth_ - 1) {
        l.up = add_conv(fmt::format("up{}", i), ch[i + 1] + ch[i], ch[i], 3, 1, scale);
        l.up_norm = add_norm(fmt::format("up{}_norm", i), ch[i]);
      }
      levels_.push_back(std::move(l));
    }
    head_ = add_head("head", ch[0], 1, false);
  }

  int64_t size_multiple() const override { return int64_t{1} << (depth_ - 1); }

  std::string script_raw() const override {
    std::string s = "def raw(self, x):\n    h = x\n";
    for (int64_t i = 0; i < depth_; ++i) {
      s += fmt::format("    h = torch.relu({})\n", script_norm(fmt::format("down{}_norm", i), script_conv(fmt::format("down{}", i), "h")));
      if (i == depth_ - 1 && noise_ > 0) {
        s += fmt::format("    h = torch.cat([h, torch.rand([h.size(0), {}, h.size(2), h.size(3)], dtype=h.dtype, device=h.device)], 1)\n", noise_);
      }
      s += fmt::format("    h = torch.relu({})\n", script_norm(fmt::format("down{}_conv_norm", i), script_conv(fmt::format("down{}_conv", i), "h")));
      s += fmt::format("    skip{} = h\n", i);
    }
    for (int64_t i = depth_ - 2; i >= 0; --i) {
      s += fmt::format("    h = torch.relu({})\n",
                       script_norm(fmt::format("up{}_norm", i), script_conv(fmt::format("up{}", i), fmt::format("torch.cat([torch.upsample_nearest2d(h, None, [2.0, 2.0]), skip{}], 1)", i))));
    }
    s += fmt::format("    return {}\n", script_conv("head", "h"));
    return s;
  }

  torch::Tensor raw(const torch::Tensor& x) override {
    std::vector<torch::Tensor> skips;
    torch::Tensor h = x;
    for (int64_t i = 0; i < depth_; ++i) {
      auto& l = levels_[i];
      h = torch::relu(apply(l.down_norm, l.down->forward(h)));
      if (i == depth_ - 1 && noise_ > 0) h = torch::cat({h, torch::rand({h.size(0), noise_, h.size(2), h.size(3)}, h.options())}, 1);
      h = torch::relu(apply(l.conv_norm, l.conv->forward(h)));
      skips.push_back(h);
    }
    for (int64_t i = depth_ - 2; i >= 0; --i) {
      auto& l = levels_[i];
      // The input is padded to a multiple of 2^(depth-1): every level is exactly twice the next.
      h = torch::relu(apply(l.up_norm, l.up->forward(torch::cat({upsample(h), skips[i]}, 1))));
    }
    return head_->forward(h);
  }

 private:
  struct Level {
    torch::nn::Conv2d down{nullptr}, conv{nullptr}, up{nullptr};
    torch::nn::AnyModule down_norm, conv_norm, up_norm;
  };
  int64_t depth_ = 0, noise_ = 0;
  std::vector<Level> levels_;
  torch::nn::Conv2d head_{nullptr};
};

}  // namespace

std::shared_ptr<Generator> build_unet_generator(const GeneratorConfig& config) { return std::make_shared<UnetGenerator>(config); }

}  // namespace mf::networks
