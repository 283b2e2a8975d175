#include "core/precision.h"

#include <ATen/autocast_mode.h>

namespace mf {

Autocast::Autocast(const c10::Device& device, const std::string& precision) : type_(device.type()) {
  enabled_ = precision == "bf16" || (precision == "auto" && device.is_cuda());
  if (!enabled_) return;
  was_enabled_ = at::autocast::is_autocast_enabled(type_);
  at::autocast::set_autocast_enabled(type_, true);
  at::autocast::set_autocast_dtype(type_, at::kBFloat16);
  at::autocast::increment_nesting();
}

Autocast::~Autocast() {
  if (!enabled_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(type_, was_enabled_);
}

Fp32Region::Fp32Region()
    : cpu_(at::autocast::is_autocast_enabled(c10::DeviceType::CPU)), cuda_(at::autocast::is_autocast_enabled(c10::DeviceType::CUDA)) {
  at::autocast::set_autocast_enabled(c10::DeviceType::CPU, false);
  at::autocast::set_autocast_enabled(c10::DeviceType::CUDA, false);
}

Fp32Region::~Fp32Region() {
  at::autocast::set_autocast_enabled(c10::DeviceType::CPU, cpu_);
  at::autocast::set_autocast_enabled(c10::DeviceType::CUDA, cuda_);
}

}  // namespace mf
