// Generator: the SPAM network G(x) -> perturbation. Subclasses build the raw network; this
// base makes it fully convolutional for any size (pad to the needed multiple, crop back)
// and bounds its output by construction: delta = eps * tanh(raw).
#pragma once

#include "networks/generator_config.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/conv.h>

#include <string>
#include <vector>

namespace mf::networks {

class Guide;

class Generator : public torch::nn::Module {
 public:
  // The bounded perturbation for images x [N, 3, H, W] in [0, 1]. eps is a scalar tensor, a
  // per-image [N] tensor, or a per-pixel map [N, 1 or 3, H, W] (the scaled-epsilon variants).
  // A guided generator (generator.guide) takes its guide, and runs guide_steps() passes: each
  // sees the image as protected so far and the guide's map there, and adds to the raw output.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& eps, const Guide* guide = nullptr);

  // The unbounded output for input whose sides are multiples of size_multiple().
  virtual torch::Tensor raw(const torch::Tensor& x) = 0;
  virtual int64_t size_multiple() const = 0;

  // TorchScript source of `def raw(self, x)`, computing raw() with the same parameters
  // (self.<child>.<name>): the exported twin runs it (export/).
  virtual std::string script_raw() const = 0;

  int64_t parameter_count() const;
  // Multiply-accumulate operations of one forward pass per megapixel of input.
  double macs_per_megapixel() const;
  const std::string& arch() const { return arch_; }
  bool guided() const { return inputs_ > 3; }
  int64_t guide_steps() const { return guide_steps_; }

 protected:
  Generator(std::string arch, const GeneratorConfig& config)
      : Module(arch),
        norm_(config.norm),
        inputs_(config.input_channels()),
        guide_steps_(config.guide_steps),
        head_scale_(config.head_scale),
        arch_(std::move(arch)) {}
  // Registers a "same" convolution whose output has `scale` times the input's resolution
  // (for counting operations); `reflect` pads by reflection instead of zeros.
  torch::nn::Conv2d add_conv(const std::string& name, int64_t in, int64_t out, int64_t kernel, int64_t stride, double scale,
                             bool reflect = false);
  // Registers the output convolution, its initial weights scaled by the config's head_scale.
  torch::nn::Conv2d add_head(const std::string& name, int64_t in, int64_t kernel, bool reflect);
  // Registers the configured normalisation for `channels` (nothing for norm: none).
  torch::nn::AnyModule add_norm(const std::string& name, int64_t channels);
  static torch::Tensor apply(torch::nn::AnyModule& norm, const torch::Tensor& x) { return norm.is_empty() ? x : norm.forward(x); }
  // Nearest-neighbour 2x upsampling, written so that export traces nothing size-specific.
  static torch::Tensor upsample(const torch::Tensor& x);

  // TorchScript expressions of the registered convolution or normalisation `name` applied
  // to the expression `in`, for script_raw().
  std::string script_conv(const std::string& name, const std::string& in) const;
  std::string script_norm(const std::string& name, const std::string& in) const;

  std::string norm_;
  int64_t inputs_;  // channels of the first convolution's input

 private:
  // raw() of `input` (the image, or the image and its guidance map) at any size: padded to
  // the needed multiple, cropped back.
  torch::Tensor unbounded(const torch::Tensor& input);

  int64_t guide_steps_;
  double head_scale_;
  struct Conv {
    std::string name;
    torch::nn::Conv2d conv;
    double scale;
    bool reflect;
  };
  std::string arch_;
  std::vector<Conv> convs_;
};

// Puts every 4-d parameter of `module` (convolution weights) in channels-last memory; the
// values stay the same.
void to_channels_last(torch::nn::Module& module);

// The generator that `config` names.
std::shared_ptr<Generator> build_generator(const GeneratorConfig& config);

}  // namespace mf::networks
