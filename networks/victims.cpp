// The victim registries: where networks come from (torchscript, builtin) and what each
// kind's output must look like.
#include "networks/builtin.h"
#include "networks/victim.h"

#include "core/error.h"
#include "core/log.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <optional>

namespace mf::networks {
namespace {

namespace fs = std::filesystem;

// A TorchScript victim. In eval mode it runs a frozen copy of the module
// (torch::jit::freeze: weights become constants, batch norm folds into the convolutions
// before it), which computes the same function with fewer operations, and whose backward
// pass skips the folded layers. Training mode (eval's adaptive attacker) runs the module
// itself; eval() freezes its current weights again. MLLM victims are not frozen: the copy
// would double the memory of the largest models, for little gain in their attention layers.
// Nor are modules that stop gradients themselves: freezing drops their detach().
class ScriptNetwork final : public VictimNetwork {
 public:
  ScriptNetwork(torch::jit::Module module, std::string name, bool freezable)
      : module_(std::move(module)), name_(std::move(name)), freezable_(freezable && !stops_gradients(module_)) {}
  c10::IValue forward(std::vector<c10::IValue> inputs) override {
    return frozen_ ? frozen_->forward(std::move(inputs)) : module_.forward(std::move(inputs));
  }
  std::vector<at::Tensor> parameters() override {
    std::vector<at::Tensor> out;
    for (const auto& p : module_.parameters()) out.push_back(p);
    return out;
  }
  void to(const c10::Device& device) override {
    module_.to(device);
    if (frozen_) freeze();
  }
  void eval() override {
    module_.eval();
    freeze();
  }
  void train() override {
    module_.train();
    frozen_.reset();
  }
  const torch::jit::Module* script() const override { return frozen_ ? &*frozen_ : &module_; }
  bool has_method(const std::string& name) const override { return module_.find_method(name).has_value(); }
  c10::IValue call(const std::string& name, std::vector<c10::IValue> inputs) override {
    return (frozen_ ? *frozen_ : module_).get_method(name)(std::move(inputs));
  }

 private:
  // Whether forward (with every method it calls) detaches a tensor or enters a `with` block
  // (torch.no_grad() is one).
  static bool stops_gradients(const torch::jit::Module& module) {
    auto graph = module.get_method("forward").graph()->copy();
    torch::jit::Inline(*graph);
    std::function<bool(const torch::jit::Block*)> stops = [&](const torch::jit::Block* block) {
      for (const torch::jit::Node* node : block->nodes()) {
        const auto kind = node->kind();
        if (kind == c10::aten::detach || kind == c10::aten::detach_ || kind == c10::prim::Enter) return true;
        for (const torch::jit::Block* inner : node->blocks()) {
          if (stops(inner)) return true;
        }
      }
      return false;
    };
    return stops(graph->block());
  }

  // Some scripted modules cannot be frozen (e.g. ones that mutate their attributes); they
  // run as they are.
  void freeze() {
    if (!freezable_) return;
    try {
      // Freezing keeps forward only, unless told to keep the other methods callers use.
      std::vector<std::string> keep;
      if (has_method("score_boxes")) keep.push_back("score_boxes");
      frozen_ = torch::jit::freeze(module_, keep);
    } catch (const c10::Error& e) {
      frozen_.reset();
      std::string why = e.what_without_backtrace();
      log::debug("victim '{}' runs unfrozen: {}", name_, why.substr(0, why.find('\n')));
    }
  }

  torch::jit::Module module_;
  std::optional<torch::jit::Module> frozen_;
  std::string name_;
  bool freezable_;
};

class BuiltinNetwork final : public VictimNetwork {
 public:
  explicit BuiltinNetwork(std::shared_ptr<TinyNet> net) : net_(std::move(net)) {}
  c10::IValue forward(std::vector<c10::IValue> inputs) override { return net_->forward(inputs.at(0).toTensor()); }
  std::vector<at::Tensor> parameters() override { return net_->parameters(); }
  void to(const c10::Device& device) override { net_->to(device); }
  void eval() override { net_->eval(); }
  void train() override { net_->train(); }

 private:
  std::shared_ptr<TinyNet> net_;
};

std::unique_ptr<VictimNetwork> load_torchscript(const VictimConfig& config) {
  const std::string& path = config.source_options.as<TorchscriptSourceOptions>().path;
  if (!fs::is_regular_file(path)) fail_input("victim '{}': TorchScript file '{}' does not exist", config.name, path);
  try {
    return std::make_unique<ScriptNetwork>(torch::jit::load(path), config.name, config.kind != "mllm");
  } catch (const c10::Error& e) {
    std::string why = e.what_without_backtrace();
    fail_input("victim '{}': '{}' is not a loadable TorchScript file: {}", config.name, path, why.substr(0, why.find('\n')));
  }
}

std::unique_ptr<VictimNetwork> load_builtin(const VictimConfig& config) {
  const auto& o = config.source_options.as<BuiltinSourceOptions>();
  auto net = make_builtin(o.arch, o.classes, o.dim);
  if (!o.checkpoint.empty()) load_builtin_weights(*net, o.checkpoint, config.name);
  return std::make_unique<BuiltinNetwork>(std::move(net));
}

std::optional<std::string> unless(bool ok, const char* expected) { return ok ? std::nullopt : std::optional<std::string>(expected); }

}  // namespace

const Registry<VictimSource>& victim_sources() {
  static const Registry<VictimSource> registry("victim source", {
      {"torchscript", "A TorchScript file loaded with torch::jit::load.", options_of<TorchscriptSourceOptions>(), load_torchscript},
      {"builtin", "A small architecture built in C++ (for demos and tests), optionally with trained weights.", options_of<BuiltinSourceOptions>(), load_builtin},
  });
  return registry;
}

const Registry<OutputCheck>& victim_kinds() {
  static const Registry<OutputCheck> registry("victim kind", {
      {"classifier", "Returns logits [N, C].", options_of<config::NoOptions>(),
       [](const at::Tensor& t, int64_t n) { return unless(t.dim() == 2 && t.size(0) == n && t.size(1) >= 2, "logits [N, C]"); }},
      {"embedder", "Returns an embedding [N, D] (face recognition, CLIP image encoders).", options_of<config::NoOptions>(),
       [](const at::Tensor& t, int64_t n) { return unless(t.dim() == 2 && t.size(0) == n, "an embedding [N, D]"); }},
      {"detector", "Returns box proposals with scores [N, B, 5] as (x0, y0, x1, y1, score), boxes in input pixels, scores in [0, 1].",
       options_of<config::NoOptions>(),
       [](const at::Tensor& t, int64_t n) { return unless(t.dim() == 3 && t.size(0) == n && t.size(2) == 5, "boxes [N, B, 5]"); }},
      {"mllm", "forward(pixel_values, input_ids) returns token logits [N, T, V].", options_of<MllmKindOptions>(),
       [](const at::Tensor& t, int64_t n) { return unless(t.dim() == 3 && t.size(0) == n, "token logits [N, T, V]"); }},
  });
  return registry;
}

void VictimConfig::validate() const {
  if (name.empty()) throw config::FieldError("name", "every victim needs a name");
  if (!input_size.empty() && (input_size.size() != 2 || input_size[0] < 1 || input_size[1] < 1)) {
    throw config::FieldError("input_size", "expected [height, width] with both at least 1");
  }
  if (!mean.empty() && mean.size() != 3) throw config::FieldError("mean", "expected 3 values (R, G, B)");
  if (!std.empty() && std.size() != 3) throw config::FieldError("std", "expected 3 values (R, G, B)");
  for (double s : std) {
    if (s <= 0) throw config::FieldError("std", "every value must be > 0");
  }
  if (source == "torchscript" && source_options.as<TorchscriptSourceOptions>().path.empty()) {
    throw config::FieldError("path", "a torchscript victim needs `path`");
  }
  if (kind == "mllm" && kind_options.as<MllmKindOptions>().tokens.empty()) {
    throw config::FieldError("tokens", "an mllm victim needs `tokens` (tools/tokenize_refusal.py writes it)");
  }
}

VictimConfig resolve_victim(VictimConfig c) {
  if (c.source == "torchscript") {
    const fs::path sidecar = fs::path(c.source_options.as<TorchscriptSourceOptions>().path).replace_extension(".json");
    if (fs::exists(sidecar)) {
      std::ifstream in(sidecar);
      try {
        auto j = nlohmann::json::parse(in);
        if (j.contains("kind") && j["kind"].get<std::string>() != c.kind) {
          fail_input("victim '{}': kind is {} but '{}' says the model is a {}", c.name, c.kind, sidecar.string(), j["kind"].get<std::string>());
        }
        if (c.input_size.empty() && j.contains("input_size")) c.input_size = j["input_size"].get<std::vector<int64_t>>();
        if (c.mean.empty() && j.contains("mean")) c.mean = j["mean"].get<std::vector<double>>();
        if (c.std.empty() && j.contains("std")) c.std = j["std"].get<std::vector<double>>();
        auto& output = c.source_options.as<TorchscriptSourceOptions>().output;
        if (output.empty() && j.contains("output")) output = j["output"].get<std::string>();
      } catch (const nlohmann::json::exception& e) {
        fail_input("victim '{}': sidecar '{}' is not valid: {}", c.name, sidecar.string(), e.what());
      }
    }
  }
  if (c.input_size.empty()) c.input_size = {32, 32};
  if (c.mean.empty()) c.mean = {0, 0, 0};
  if (c.std.empty()) c.std = {1, 1, 1};
  try {
    c.validate();
  } catch (const config::FieldError& e) {
    fail_input("victim '{}': {}: {}", c.name, e.key, e.what());
  }
  return c;
}

}  // namespace mf::networks
