#include "networks/generator.h"

#include "core/error.h"
#include "networks/guide.h"

#include <torch/nn/functional/padding.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/instancenorm.h>

namespace mf::networks {

namespace F = torch::nn::functional;

torch::Tensor Generator::forward(const torch::Tensor& x, const torch::Tensor& eps, const Guide* guide) {
  if (x.dim() != 4 || x.size(1) != 3) fail_runtime("generator input must be [N, 3, H, W], got {}", fmt::join(x.sizes(), "x"));
  if (guided() != (guide != nullptr)) fail_runtime("{}", guided() ? "a guided generator needs its guide" : "this generator takes no guide");
  torch::Tensor e = eps;
  if (e.dim() == 1) e = e.view({-1, 1, 1, 1});
  if (!guide) return torch::tanh(unbounded(x)) * e;
  // Every pass moves away from the classes of the clean image, which the first one finds.
  std::vector<at::Tensor> away;
  auto with_guidance = [&](const torch::Tensor& image) { return torch::cat({image, (*guide)(image, away).to(image.scalar_type())}, 1); };
  torch::Tensor raw = unbounded(with_guidance(x));
  for (int64_t pass = 1; pass < guide_steps_; ++pass) raw = raw + unbounded(with_guidance((x + torch::tanh(raw) * e).clamp(0, 1)));
  return torch::tanh(raw) * e;
}

torch::Tensor Generator::unbounded(const torch::Tensor& input) {
  // Pad to a multiple of size_multiple(), and to at least two of them, so the deepest
  // level keeps more than one pixel for its normalisation.
  const int64_t m = size_multiple(), h = input.size(2), w = input.size(3);
  const int64_t ph = std::max((h + m - 1) / m, int64_t{2}) * m - h, pw = std::max((w + m - 1) / m, int64_t{2}) * m - w;
  torch::Tensor in = input;
  if (ph || pw) {
    // Reflection keeps the borders natural; it needs the padding to be smaller than the side.
    const bool reflect = ph < h && pw < w;
    auto options = F::PadFuncOptions({0, pw, 0, ph});
    if (reflect) options.mode(torch::kReflect);
    else options.mode(torch::kReplicate);
    in = F::pad(in, options);
  }
  torch::Tensor raw_out = raw(in);
  return ph || pw ? raw_out.slice(2, 0, h).slice(3, 0, w) : raw_out;
}

torch::nn::Conv2d Generator::add_conv(const std::string& name, int64_t in, int64_t out, int64_t kernel, int64_t stride, double scale,
                                      bool reflect) {
  auto options = torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2);
  if (reflect) options.padding_mode(torch::kReflect);
  auto conv = register_module(name, torch::nn::Conv2d(options));
  convs_.push_back({name, conv, scale, reflect});
  return conv;
}

torch::nn::Conv2d Generator::add_head(const std::string& name, int64_t in, int64_t kernel, bool reflect) {
  auto head = add_conv(name, in, 3, kernel, 1, 1, reflect);
  torch::NoGradGuard no_grad;
  head->weight.mul_(head_scale_);
  head->bias.zero_();
  return head;
}

torch::nn::AnyModule Generator::add_norm(const std::string& name, int64_t channels) {
  if (norm_ == "instance") return torch::nn::AnyModule(register_module(name, torch::nn::InstanceNorm2d(torch::nn::InstanceNorm2dOptions(channels).affine(true))));
  if (norm_ == "batch") return torch::nn::AnyModule(register_module(name, torch::nn::BatchNorm2d(channels)));
  return {};
}

torch::Tensor Generator::upsample(const torch::Tensor& x) {
  return at::upsample_nearest2d(x, std::nullopt, std::vector<double>{2.0, 2.0});
}

std::string Generator::script_conv(const std::string& name, const std::string& in) const {
  auto it = std::find_if(convs_.begin(), convs_.end(), [&](const Conv& c) { return c.name == name; });
  if (it == convs_.end()) fail_runtime("script_conv: no convolution named '{}'", name);
  const auto& o = it->conv->options;
  const int64_t pad = o.kernel_size()->at(0) / 2, stride = o.stride()->at(0);
  if (it->reflect) {
    return fmt::format("torch.conv2d(torch.reflection_pad2d({}, [{p}, {p}, {p}, {p}]), self.{n}.weight, self.{n}.bias, [{s}, {s}], [0, 0], [1, 1], 1)",
                       in, fmt::arg("p", pad), fmt::arg("n", name), fmt::arg("s", stride));
  }
  return fmt::format("torch.conv2d({}, self.{n}.weight, self.{n}.bias, [{s}, {s}], [{p}, {p}], [1, 1], 1)", in, fmt::arg("p", pad),
                     fmt::arg("n", name), fmt::arg("s", stride));
}

std::string Generator::script_norm(const std::string& name, const std::string& in) const {
  if (norm_ == "instance") return fmt::format("torch.instance_norm({}, self.{n}.weight, self.{n}.bias, None, None, True, 0.1, 1e-05, False)", in, fmt::arg("n", name));
  if (norm_ == "batch") {
    return fmt::format("torch.batch_norm({}, self.{n}.weight, self.{n}.bias, self.{n}.running_mean, self.{n}.running_var, False, 0.1, 1e-05, False)", in,
                       fmt::arg("n", name));
  }
  return in;
}

int64_t Generator::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

double Generator::macs_per_megapixel() const {
  double macs = 0;
  for (const auto& c : convs_) {
    const auto& o = c.conv->options;
    macs += static_cast<double>(o.out_channels() * o.in_channels() / o.groups() * o.kernel_size()->at(0) * o.kernel_size()->at(1)) * c.scale * c.scale;
  }
  return macs * 1e6;
}

std::shared_ptr<Generator> build_generator(const GeneratorConfig& config) { return generators().at(config.arch).build(config); }

void to_channels_last(torch::nn::Module& module) {
  for (auto& p : module.parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
  }
}

}  // namespace mf::networks
