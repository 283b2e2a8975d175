// The `resnet` generator: the classic design of generative adversarial perturbations
// (Johnson et al.'s image transformation network): a 7x7 stem, two stride-2
// downsamplings, residual blocks, two nearest-neighbour upsamplings, a 7x7 head.
#include "networks/generator.h"


namespace mf::networks {
namespace {

class ResnetGenerator final : public Generator {
 public:
  ResnetGenerator(const GeneratorConfig& config) : Generator("resnet", config) {
    const auto& o = config.options.as<ResnetOptions>();
    const int64_t w = o.width;
    stem_ = add_conv("stem", inputs_, w, 7, 1, 1, true);
    stem_norm_ = add_norm("stem_norm", w);
    down1_ = add_conv("down1", w, 2 * w, 3, 2, 0.5);
    down1_norm_ = add_norm("down1_norm", 2 * w);
    down2_ = add_conv("down2", 2 * w, 4 * w, 3, 2, 0.25);
    down2_norm_ = add_norm("down2_norm", 4 * w);
    for (int64_t i = 0; i < o.blocks; ++i) {
      Block b;
      b.conv1 = add_conv(fmt::format("block{}_conv1", i), 4 * w, 4 * w, 3, 1, 0.25);
      b.norm1 = add_norm(fmt::format("block{}_norm1", i), 4 * w);
      b.conv2 = add_conv(fmt::format("block{}_conv2", i), 4 * w, 4 * w, 3, 1, 0.25);
      b.norm2 = add_norm(fmt::format("block{}_norm2", i), 4 * w);
      blocks_.push_back(std::move(b));
    }
    up1_ = add_conv("up1", 4 * w, 2 * w, 3, 1, 0.5);
    up1_norm_ = add_norm("up1_norm", 2 * w);
    up2_ = add_conv("up2", 2 * w, w, 3, 1, 1);
    up2_norm_ = add_norm("up2_norm", w);
    head_ = add_head("head", w, 7, true);
  }

  int64_t size_multiple() const override { return 4; }

  std::string script_raw() const override {
    std::string s = "def raw(self, x):\n";
    auto layer = [&](const std::string& out, const std::string& conv, const std::string& norm, const std::string& in) {
      s += fmt::format("    {} = torch.relu({})\n", out, script_norm(norm, script_conv(conv, in)));
    };
    layer("h", "stem", "stem_norm", "x");
    layer("h", "down1", "down1_norm", "h");
    layer("h", "down2", "down2_norm", "h");
    for (size_t i = 0; i < blocks_.size(); ++i) {
      layer("r", fmt::format("block{}_conv1", i), fmt::format("block{}_norm1", i), "h");
      s += fmt::format("    h = h + {}\n", script_norm(fmt::format("block{}_norm2", i), script_conv(fmt::format("block{}_conv2", i), "r")));
    }
    layer("h", "up1", "up1_norm", "torch.upsample_nearest2d(h, None, [2.0, 2.0])");
    layer("h", "up2", "up2_norm", "torch.upsample_nearest2d(h, None, [2.0, 2.0])");
    s += fmt::format("    return {}\n", script_conv("head", "h"));
    return s;
  }

  torch::Tensor raw(const torch::Tensor& x) override {
    auto h = torch::relu(apply(stem_norm_, stem_->forward(x)));
    h = torch::relu(apply(down1_norm_, down1_->forward(h)));
    h = torch::relu(apply(down2_norm_, down2_->forward(h)));
    for (auto& b : blocks_) {
      auto r = torch::relu(apply(b.norm1, b.conv1->forward(h)));
      h = h + apply(b.norm2, b.conv2->forward(r));
    }
    h = torch::relu(apply(up1_norm_, up1_->forward(upsample(h))));
    h = torch::relu(apply(up2_norm_, up2_->forward(upsample(h))));
    return head_->forward(h);
  }

 private:
  struct Block {
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
    torch::nn::AnyModule norm1, norm2;
  };
  torch::nn::Conv2d stem_{nullptr}, down1_{nullptr}, down2_{nullptr}, up1_{nullptr}, up2_{nullptr}, head_{nullptr};
  torch::nn::AnyModule stem_norm_, down1_norm_, down2_norm_, up1_norm_, up2_norm_;
  std::vector<Block> blocks_;
};

}  // namespace

std::shared_ptr<Generator> build_resnet_generator(const GeneratorConfig& config) { return std::make_shared<ResnetGenerator>(config); }

}  // namespace mf::networks
