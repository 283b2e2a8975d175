#include "checkpoints/tensors.h"

#include "core/error.h"

#include <torch/serialize.h>

#include <set>

namespace mf::checkpoints {
namespace {

std::map<std::string, at::Tensor> named_state(const torch::nn::Module& module) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : module.named_parameters()) out[p.key()] = p.value();
  for (const auto& b : module.named_buffers()) out[b.key()] = b.value();
  return out;
}

std::string first_line(const c10::Error& e) {
  std::string s = e.what_without_backtrace();
  return s.substr(0, s.find('\n'));
}

}  // namespace

void save_tensors(const std::map<std::string, at::Tensor>& tensors, const std::filesystem::path& path) {
  torch::serialize::OutputArchive archive;
  for (const auto& [name, t] : tensors) archive.write(name, t.detach().cpu(), /*is_buffer=*/true);
  archive.save_to(path.string());
}

std::map<std::string, at::Tensor> load_tensors(const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
  } catch (const c10::Error& e) {
    fail_input("'{}' is not a tensor file maskforge can read: {}", path.string(), first_line(e));
  }
  std::map<std::string, at::Tensor> out;
  for (const auto& key : archive.keys()) {
    at::Tensor t;
    if (archive.try_read(key, t)) out[key] = t;
  }
  return out;
}

void save_module(const torch::nn::Module& module, const std::filesystem::path& path) { save_tensors(named_state(module), path); }

void load_module(torch::nn::Module& module, const std::filesystem::path& path, const std::string& what) {
  auto stored = load_tensors(path);
  std::vector<std::string> missing, wrong_shape, unexpected;
  auto wanted = named_state(module);
  for (const auto& [name, t] : wanted) {
    auto it = stored.find(name);
    if (it == stored.end()) missing.push_back(name);
    else if (it->second.sizes() != t.sizes()) {
      wrong_shape.push_back(fmt::format("{} (file {}, {} {})", name, fmt::join(it->second.sizes(), "x"), what, fmt::join(t.sizes(), "x")));
    }
  }
  for (const auto& [name, t] : stored) {
    if (!wanted.count(name)) unexpected.push_back(name);
  }
  if (!missing.empty() || !wrong_shape.empty() || !unexpected.empty()) {
    std::string msg = fmt::format("'{}' does not fit the {}:", path.string(), what);
    if (!missing.empty()) msg += fmt::format(" missing: {};", fmt::join(missing, ", "));
    if (!unexpected.empty()) msg += fmt::format(" unexpected: {};", fmt::join(unexpected, ", "));
    if (!wrong_shape.empty()) msg += fmt::format(" wrong shape: {};", fmt::join(wrong_shape, ", "));
    msg.pop_back();
    throw InputError(msg);
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : wanted) t.copy_(stored.at(name));
}

void save_optimizer(const torch::optim::Optimizer& optimizer, const std::filesystem::path& path) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  archive.save_to(path.string());
}

void load_optimizer(torch::optim::Optimizer& optimizer, const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
    optimizer.load(archive);
  } catch (const c10::Error& e) {
    fail_input("cannot load optimizer state from '{}': {}", path.string(), first_line(e));
  }
}

}  // namespace mf::checkpoints
