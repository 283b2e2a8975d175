// Mixed precision: bf16 autocast where the `trainer.precision` setting asks for it (auto:
// on CUDA only). The same guard serves CPU and GPU; only the device type differs.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace mf {

class Autocast {
 public:
  Autocast(const c10::Device& device, const std::string& precision);
  ~Autocast();
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  c10::DeviceType type_;
  bool was_enabled_ = false, enabled_ = false;
};

// A scope computed in fp32 whatever autocast the caller runs under: for numerically
// fragile computations (SSIM's E[x^2] - mu^2, the JPEG DCT) that bf16 would ruin.
class Fp32Region {
 public:
  Fp32Region();
  ~Fp32Region();
  Fp32Region(const Fp32Region&) = delete;
  Fp32Region& operator=(const Fp32Region&) = delete;

 private:
  bool cpu_, cuda_;
};

}  // namespace mf
