// The built-in victim architectures: small networks for demos and tests, trained by
// `trainer.kind: classifier` so that no download is ever needed.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <memory>
#include <string>

namespace mf::networks {

// conv-bn-relu x2 per stage, three stages (32, 64, 128 channels) with 2x2 pooling, global
// average pooling, then a linear layer: `out` logits (tiny_cnn) or an `out`-dim embedding
// (tiny_embedder). Any input size of at least 8x8.
class TinyNet : public torch::nn::Module {
 public:
  TinyNet(int64_t out, int64_t width = 32);
  torch::Tensor forward(const torch::Tensor& x);
  // The pooled features before the last layer.
  torch::Tensor features(const torch::Tensor& x);

 private:
  std::vector<std::pair<torch::nn::Conv2d, torch::nn::BatchNorm2d>> layers_;
  torch::nn::Linear head_{nullptr};
};

// The architecture `arch` (tiny_cnn or tiny_embedder) with `classes` logits or `dim` outputs.
std::shared_ptr<TinyNet> make_builtin(const std::string& arch, int64_t classes, int64_t dim);

// Loads trained weights into `net`: a weights file (checkpoints::save_module), or a run
// folder or checkpoint of `trainer.kind: classifier`. `victim` names the victim in errors.
void load_builtin_weights(TinyNet& net, const std::string& checkpoint, const std::string& victim);

}  // namespace mf::networks
