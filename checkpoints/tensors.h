// Module and optimizer state on disk. Module tensors are stored flat under their full names
// ("blocks.0.conv1.weight"), and loading is strict: every missing, unexpected and
// wrong-shape tensor is listed by name; nothing is skipped with a warning.
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <filesystem>
#include <string>

namespace mf::checkpoints {

void save_module(const torch::nn::Module& module, const std::filesystem::path& path);
// `what` names the module in errors ("generator"). Throws InputError when the file does not
// fit the module.
void load_module(torch::nn::Module& module, const std::filesystem::path& path, const std::string& what);

void save_optimizer(const torch::optim::Optimizer& optimizer, const std::filesystem::path& path);
void load_optimizer(torch::optim::Optimizer& optimizer, const std::filesystem::path& path);

// Named tensors (e.g. RNG states) in one file.
void save_tensors(const std::map<std::string, at::Tensor>& tensors, const std::filesystem::path& path);
std::map<std::string, at::Tensor> load_tensors(const std::filesystem::path& path);

}  // namespace mf::checkpoints
