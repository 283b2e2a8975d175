#include "networks/builtin.h"

#include "checkpoints/manager.h"
#include "checkpoints/tensors.h"
#include "core/error.h"

#include <torch/nn/functional/pooling.h>

#include <filesystem>

namespace mf::networks {

TinyNet::TinyNet(int64_t out, int64_t width) : Module("TinyNet") {
  int64_t in = 3, i = 0;
  for (int64_t stage = 0; stage < 3; ++stage) {
    const int64_t ch = width << stage;
    for (int rep = 0; rep < 2; ++rep, ++i) {
      auto conv = register_module(fmt::format("conv{}", i), torch::nn::Conv2d(torch::nn::Conv2dOptions(in, ch, 3).padding(1).bias(false)));
      auto bn = register_module(fmt::format("bn{}", i), torch::nn::BatchNorm2d(ch));
      layers_.emplace_back(conv, bn);
      in = ch;
    }
  }
  head_ = register_module("head", torch::nn::Linear(in, out));
}

torch::Tensor TinyNet::features(const torch::Tensor& x) {
  torch::Tensor h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = torch::relu(layers_[i].second->forward(layers_[i].first->forward(h)));
    if (i % 2 == 1 && i + 1 < layers_.size()) h = torch::max_pool2d(h, 2);
  }
  return h.mean({2, 3});
}

torch::Tensor TinyNet::forward(const torch::Tensor& x) { return head_->forward(features(x)); }

std::shared_ptr<TinyNet> make_builtin(const std::string& arch, int64_t classes, int64_t dim) {
  if (arch == "tiny_cnn") return std::make_shared<TinyNet>(classes);
  if (arch == "tiny_embedder") return std::make_shared<TinyNet>(dim);
  fail_input("unknown built-in architecture '{}'; known: tiny_cnn, tiny_embedder", arch);
}

void load_builtin_weights(TinyNet& net, const std::string& checkpoint, const std::string& victim) {
  namespace fs = std::filesystem;
  if (!fs::exists(checkpoint)) fail_input("victim '{}': checkpoint '{}' does not exist", victim, checkpoint);
  fs::path file = checkpoint;
  if (fs::is_directory(file)) {
    // A run folder of `trainer.kind: classifier` holds its final weights in export/model.pt;
    // otherwise take the model of its newest valid checkpoint.
    file = fs::exists(file / "export" / "model.pt") ? file / "export" / "model.pt" : checkpoints::resolve_checkpoint(file).dir / "model.pt";
  }
  checkpoints::load_module(net, file, fmt::format("victim '{}' ({})", victim, "built-in network"));
}

}  // namespace mf::networks
