// Reading what a training run left in its run folder.
#pragma once

#include <torch/types.h>

#include <filesystem>
#include <map>
#include <string>

namespace mf::test {

// The tensors of `module` in the newest valid checkpoint of `run`.
std::map<std::string, torch::Tensor> final_weights(const std::filesystem::path& run, const std::string& module);

}  // namespace mf::test
