#include "networks/victim.h"

#include "core/error.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/nn/functional/upsampling.h>

#include <fstream>
#include <limits>

namespace mf::networks {
namespace {

namespace F = torch::nn::functional;

VictimKind kind_of(const std::string& name) {
  if (name == "classifier") return VictimKind::classifier;
  if (name == "embedder") return VictimKind::embedder;
  if (name == "detector") return VictimKind::detector;
  return VictimKind::mllm;
}

// "[N, 3, 32, 32]" with the batch dimension written as N.
std::string shape_text(const at::Tensor& t, int64_t batch) {
  std::vector<std::string> dims;
  for (int64_t i = 0; i < t.dim(); ++i) dims.push_back(i == 0 && t.size(0) == batch ? "N" : std::to_string(t.size(i)));
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

}  // namespace

c10::IValue VictimNetwork::call(const std::string& name, std::vector<c10::IValue> /*inputs*/) {
  fail_runtime("this victim's network has no method '{}'", name);
}

MllmTokens load_mllm_tokens(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail_input("mllm tokens file '{}' does not exist or cannot be read", path);
  MllmTokens t;
  try {
    auto j = nlohmann::json::parse(in);
    t.prompts = j.at("prompts").get<std::vector<std::vector<int64_t>>>();
    t.targets = j.at("targets").get<std::vector<std::vector<int64_t>>>();
    t.answers = j.value("answers", std::vector<std::vector<int64_t>>{});
    t.prompt_texts = j.value("prompt_texts", std::vector<std::string>{});
    t.target_texts = j.value("target_texts", std::vector<std::string>{});
  } catch (const nlohmann::json::exception& e) {
    fail_input("mllm tokens file '{}': {} (expected {{\"prompts\": [[ids]], \"targets\": [[ids]]}})", path, e.what());
  }
  auto non_empty = [](const auto& lists) {
    return !lists.empty() && std::all_of(lists.begin(), lists.end(), [](const auto& l) { return !l.empty(); });
  };
  if (!non_empty(t.prompts) || !non_empty(t.targets)) fail_input("mllm tokens file '{}': needs at least one non-empty prompt and target", path);
  if (!t.answers.empty() && !non_empty(t.answers)) fail_input("mllm tokens file '{}': an answer has no tokens", path);
  return t;
}

Victim::Victim(VictimConfig config, std::unique_ptr<VictimNetwork> network, const c10::Device& device)
    : config_(std::move(config)), kind_(kind_of(config_.kind)), network_(std::move(network)) {
  network_->eval();
  network_->to(device);
  for (auto& p : network_->parameters()) {
    p.requires_grad_(false);
    parameter_count_ += p.numel();
  }
  auto opts = at::TensorOptions().dtype(at::kFloat).device(device);
  mean_ = at::tensor(std::vector<float>(config_.mean.begin(), config_.mean.end()), opts).view({1, 3, 1, 1});
  std_ = at::tensor(std::vector<float>(config_.std.begin(), config_.std.end()), opts).view({1, 3, 1, 1});
  if (kind_ == VictimKind::mllm) tokens_ = load_mllm_tokens(config_.kind_options.as<MllmKindOptions>().tokens);
}

at::Tensor Victim::preprocess(const at::Tensor& x01) const {
  at::Tensor x = x01;
  const int64_t h = config_.input_size[0], w = config_.input_size[1];
  if (x.size(2) != h || x.size(3) != w) {
    x = F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false).antialias(true));
  }
  x = (x - mean_) / std_;
  // The network runs in the layout its caller chose for the images (trainer.channels_last).
  return x01.suggest_memory_format() == at::MemoryFormat::ChannelsLast ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
}

std::vector<at::Tensor> Victim::unfreeze() {
  network_->train();
  auto parameters = network_->parameters();
  for (auto& p : parameters) p.requires_grad_(true);
  return parameters;
}

void Victim::freeze() {
  network_->eval();
  for (auto& p : network_->parameters()) p.requires_grad_(false);
}

at::Tensor Victim::select_and_check(const c10::IValue& out, int64_t batch) const {
  c10::IValue v = out;
  const std::string& sel = config_.source_options.holds(typeid(TorchscriptSourceOptions))
                               ? config_.source_options.as<TorchscriptSourceOptions>().output
                               : std::string();
  if (v.isTuple() || v.isList()) {
    auto items = v.isTuple() ? v.toTupleRef().elements().vec() : v.toList().vec();
    if (sel.empty()) fail_input("victim '{}': the model returns {} outputs; set `output` to the index to use", name(), items.size());
    size_t i = 0;
    try {
      i = std::stoul(sel);
    } catch (const std::exception&) {
      fail_input("victim '{}': `output` must be an index for a model returning a tuple, got '{}'", name(), sel);
    }
    if (i >= items.size()) fail_input("victim '{}': `output` {} is out of range; the model returns {} outputs", name(), i, items.size());
    v = items[i];
  } else if (v.isGenericDict()) {
    auto dict = v.toGenericDict();
    std::vector<std::string> keys;
    for (const auto& item : dict) keys.push_back(item.key().isString() ? item.key().toStringRef() : "?");
    if (sel.empty() || !dict.contains(sel)) {
      fail_input("victim '{}': the model returns a dict; set `output` to one of its keys: {}", name(), fmt::join(keys, ", "));
    }
    v = dict.at(sel);
  } else if (!sel.empty()) {
    fail_input("victim '{}': `output` is '{}' but the model returns a single value", name(), sel);
  }
  if (!v.isTensor()) fail_input("victim '{}': the model's output is a {}, not a tensor", name(), v.tagKind());
  at::Tensor t = v.toTensor();
  if (auto expected = victim_kinds().at(config_.kind).build(t, batch)) {
    fail_input("victim '{}': expected {}, got {}", name(), *expected, shape_text(t, batch));
  }
  return t;
}

at::Tensor Victim::forward(const at::Tensor& x01) {
  if (kind_ == VictimKind::mllm) fail_runtime("victim '{}' is an mllm: call forward(images, input_ids)", name());
  return select_and_check(network_->forward({preprocess(x01)}), x01.size(0));
}

at::Tensor Victim::score_boxes(const at::Tensor& x01, const at::Tensor& boxes) {
  if (!scores_boxes()) fail_input("victim '{}' cannot score given boxes: its export has no score_boxes method (tools/export_victim.py mtcnn writes one)", name());
  at::Tensor out = network_->call("score_boxes", {preprocess(x01), boxes}).toTensor();
  if (out.dim() != 2 || out.size(0) != boxes.size(0) || out.size(1) != boxes.size(1)) {
    fail_input("victim '{}': score_boxes returned {}, expected [N, {}]", name(), shape_text(out, boxes.size(0)), boxes.size(1));
  }
  return out;
}

at::Tensor Victim::forward(const at::Tensor& x01, const at::Tensor& input_ids) {
  return select_and_check(network_->forward({preprocess(x01), input_ids}), x01.size(0));
}

TeacherForced Victim::teacher_forced(const at::Tensor& x01, const std::vector<int64_t>& prompt, const std::vector<int64_t>& target) {
  std::vector<int64_t> ids = prompt;
  ids.insert(ids.end(), target.begin(), target.end());
  const int64_t n = x01.size(0), t = static_cast<int64_t>(target.size()), start = static_cast<int64_t>(prompt.size()) - 1;
  const at::Tensor input = at::tensor(ids, at::kLong).to(x01.device()).unsqueeze(0).expand({n, -1}).contiguous();
  // Position i predicts token i + 1: the target's tokens are predicted from start on.
  return {forward(x01, input).slice(1, start, start + t).to(at::kFloat).log_softmax(2), input.slice(1, start + 1, start + 1 + t)};
}

std::shared_ptr<Victim> build_victim(const VictimConfig& config, const c10::Device& device) {
  auto victim = std::make_shared<Victim>(config, victim_sources().at(config.source).build(config), device);
  // Warm-up: the first passes allocate and (for TorchScript) optimise the graph; doing them
  // here keeps them out of the first step's timing, checks the output shape early, and
  // proves that gradients reach the input.
  auto x = at::full({2, 3, config.input_size[0], config.input_size[1]}, 0.5, at::TensorOptions().device(device)).requires_grad_();
  at::Tensor out;
  try {
    if (victim->kind() == VictimKind::mllm) {
      out = victim->teacher_forced(x, victim->tokens().prompts[0], victim->tokens().targets[0]).log_p;
    } else {
      out = victim->forward(x);
    }
  } catch (const InputError&) {
    throw;  // the output checks' own messages
  } catch (const std::exception& e) {
    // LibTorch's errors (c10::Error, or a plain runtime_error from the TorchScript interpreter
    // in some releases) end with the error itself, after the script's traceback. A traced
    // export that made tensors while tracing holds them on the tracing device.
    const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
    std::string why = c10_error ? c10_error->what_without_backtrace() : e.what();
    why.erase(why.find_last_not_of("\n ") + 1);
    fail_input("victim '{}': the model fails on a batch of 2 x 3 x {} x {} on {}: {}{}", config.name, config.input_size[0], config.input_size[1],
               device.str(), why.substr(why.rfind('\n') + 1),
               device.is_cuda() ? "; a file traced on the CPU by an older tools/export_victim.py may pin tensors there: export it again" : "");
  }
  try {
    out.to(at::kFloat).square().sum().backward();
  } catch (const c10::Error& e) {
    std::string why = e.what_without_backtrace();
    fail_input("victim '{}': gradients cannot flow back to the image through this model ({}); export it with gradients enabled, "
               "as tools/export_victim.py does", config.name, why.substr(0, why.find('\n')));
  }
  if (!x.grad().defined()) fail_input("victim '{}': the output does not depend on the input image", config.name);
  return victim;
}

at::Tensor no_face_loss(const at::Tensor& scores) { return -at::log1p(-scores.clamp_max(1 - 1e-6)); }

at::Tensor best_box(const at::Tensor& boxes) {
  const at::Tensor best = boxes.select(2, 4).argmax(1);
  return boxes.gather(1, best.view({-1, 1, 1}).expand({-1, 1, 5})).squeeze(1);
}

at::Tensor boxes_around(const at::Tensor& face, const at::Tensor& draws) {
  const int64_t n = face.size(0);
  const at::Tensor f = face.detach(), u = draws.to(f.options());
  const at::Tensor side = at::maximum(f.select(1, 2) - f.select(1, 0), f.select(1, 3) - f.select(1, 1)).view({n, 1});
  const at::Tensor cx = ((f.select(1, 0) + f.select(1, 2)) / 2).view({n, 1}) + (u.select(2, 0) * 0.4 - 0.2) * side;
  const at::Tensor cy = ((f.select(1, 1) + f.select(1, 3)) / 2).view({n, 1}) + (u.select(2, 1) * 0.4 - 0.2) * side;
  const at::Tensor half = (0.85 + u.select(2, 2) * 0.45) * side / 2;
  return at::stack({cx - half, cy - half, cx + half, cy + half}, 2);
}

at::Tensor away_from_top_classes(const at::Tensor& clean_logits, int64_t top_k, bool by_clean_probability) {
  const at::Tensor logits = clean_logits.detach().to(at::kFloat);
  const at::Tensor top = std::get<1>(logits.topk(top_k, 1));
  const at::Tensor weights = by_clean_probability ? logits.log_softmax(1).gather(1, top) : at::zeros(top.sizes(), logits.options());
  return at::full_like(logits, -std::numeric_limits<float>::infinity()).scatter(1, top, weights);
}

at::Tensor away_from_class(const at::Tensor& classes, int64_t num_classes) {
  return at::full({classes.size(0), num_classes}, -std::numeric_limits<float>::infinity(), classes.options().dtype(at::kFloat))
      .scatter(1, classes.unsqueeze(1), 0.0);
}

at::Tensor away_cross_entropy(const at::Tensor& logits, const at::Tensor& log_weights) {
  return at::logsumexp(logits, 1) - at::logsumexp(logits + log_weights, 1);
}

}  // namespace mf::networks
