#include "networks/builtin.h"

#include "core/error.h"

#include <torch/nn/functional/pooling.h>
#include <torch/serialize.h>

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
  if (!std::filesystem::is_regular_file(checkpoint)) {
    fail_input("victim '{}': checkpoint '{}' does not exist", victim, checkpoint);
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(checkpoint);
    net.load(archive);
  } catch (const c10::Error& e) {
    std::string why = e.what_without_backtrace();
    fail_input("victim '{}': cannot load weights from '{}': {}", victim, checkpoint, why.substr(0, why.find('\n')));
  }
}

}  // namespace mf::networks
