#include "core/device.h"

#include "core/error.h"
#include "core/version.h"

#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/cuda.h>
#include <torch/version.h>

#ifdef MF_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace mf {

torch::Device select_device(const std::string& setting, int64_t local_rank, int64_t ranks) {
  if (setting.starts_with("cuda:") && ranks > 1) {
    fail_input("run.device '{}' names one GPU, but {} ranks run this job and would all train on it; use cuda or auto (the GPU of each local rank)",
               setting, ranks);
  }
  const bool gpu = torch::cuda::is_available();
  if (setting == "auto") {
    if (!gpu) return torch::kCPU;
    return {torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % torch::cuda::device_count())};
  }
  if (setting == "cpu") return torch::kCPU;
  if (setting == "cuda" || setting.starts_with("cuda:")) {
    if (!gpu) fail_input("run.device is '{}' but no GPU is visible (use auto or cpu)", setting);
    if (setting == "cuda") return {torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % torch::cuda::device_count())};
    try {
      torch::Device d(setting);
      if (d.index() >= static_cast<int64_t>(torch::cuda::device_count())) {
        fail_input("run.device is '{}' but only {} GPU(s) are visible", setting, torch::cuda::device_count());
      }
      return d;
    } catch (const c10::Error&) {
    }
  }
  fail_input("run.device '{}' is not one of: auto, cpu, cuda, cuda:N", setting);
}

std::string describe_device(const torch::Device& device) {
#ifdef MF_WITH_CUDA
  if (device.is_cuda()) {
    const cudaDeviceProp* gpu = at::cuda::getDeviceProperties(device.index());
    return fmt::format("{} ({}, {:.0f} GiB)", device.str(), gpu->name, static_cast<double>(gpu->totalGlobalMem) / (1 << 30));
  }
#endif
  return device.str();
}

std::string describe_build() {
  std::string cuda = "LibTorch built without CUDA";
#ifdef MF_WITH_CUDA
  try {
    long v = at::detail::getCUDAHooks().versionCUDART();
    cuda = fmt::format("LibTorch built with CUDA {}.{}", v / 1000, (v % 1000) / 10);
  } catch (const c10::Error&) {
    cuda = "LibTorch built with CUDA, but its CUDA runtime did not load";
  }
#endif
  std::string gpus = torch::cuda::is_available() ? fmt::format("{} GPU(s) visible", torch::cuda::device_count()) : "no GPU visible";
  return fmt::format("maskforge {}\nLibTorch {}\n{}\n{}", kVersion, TORCH_VERSION, cuda, gpus);
}

}  // namespace mf
