// Choosing the torch device from the `run.device` setting.
#pragma once

#include <torch/types.h>

#include <string>

namespace mf {

// "auto": the GPU of this process's local rank if any GPU is visible, else the CPU.
// "cpu", "cuda", "cuda:N": as named; asking for a GPU that is not there is an InputError,
// and so is "cuda:N" in a job of several ranks (they would all train on that one GPU).
torch::Device select_device(const std::string& setting, int64_t local_rank = 0, int64_t ranks = 1);

// The device as a person reads it: "cuda:0 (NVIDIA H200, 140 GiB)", or "cpu".
std::string describe_device(const torch::Device& device);

// One line on the build and the machine: toolkit, LibTorch and CUDA versions, GPUs seen.
std::string describe_build();

}  // namespace mf
