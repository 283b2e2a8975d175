// Choosing the device from run.device.
#include "core/device.h"
#include "core/error.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

namespace mf {
namespace {

TEST(Device, CpuAndAutoWithoutAGpu) {
  EXPECT_EQ(select_device("cpu"), torch::Device(torch::kCPU));
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(select_device("auto", 1, 2), torch::Device(torch::kCPU));
  }
}

TEST(Device, OneNamedGpuForSeveralRanksIsRefused) {
  try {
    select_device("cuda:0", 1, 2);
    FAIL() << "cuda:0 with 2 ranks was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("2 ranks run this job and would all train on it"), std::string::npos) << e.what();
  }
  EXPECT_THROW(select_device("gpu"), InputError);
}

}  // namespace
}  // namespace mf
