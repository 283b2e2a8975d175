// Protection methods: how images become protected images. Each is a kind of the `methods`
// registry with its own options, named by `maskforge protect --method` and by the
// `protections` of an evaluation spec:
//
//   model     an exported generator or UEP (maskforge export); large photos in tiles
//   pgd       per-image PGD against a training config's victims, losses and eps
//   none      the images unchanged (the baseline of every evaluation)
//   noise, blur, pixelate, dp_pix, dp_blur, krtio   baselines from the literature
//
// Keyed and random methods derive their randomness from each image's id (its path relative
// to the input folder, or its dataset source), so a result is reproducible and K-RTIO can
// be undone by whoever holds the key.
#pragma once

#include "core/config/config.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <vector>

namespace mf::protect {

class Method {
 public:
  virtual ~Method() = default;
  // The protected images for x [N, 3, H, W] in [0, 1] on the method's device.
  virtual at::Tensor protect(const at::Tensor& x, const std::vector<std::string>& ids) = 0;
  // The originals back from protected images, for methods whose owner can undo them (K-RTIO
  // with its key, a UEP); others throw an InputError saying why they cannot.
  virtual at::Tensor decode(const at::Tensor& protected_images, const std::vector<std::string>& ids);
  virtual std::string describe() const = 0;
};

// One protection: its kind and options, and a name for reports.
struct MethodConfig {
  std::string name;
  std::string method = "model";
  config::Options options;

  template <class V>
  void visit(V& v);
};

// What building a method needs besides its config.
struct MethodContext {
  c10::Device device = c10::kCPU;
  uint64_t seed = 0;  // for random methods (noise, DP noise); mixed with each image's id
};

using MethodBuilder = std::function<std::unique_ptr<Method>(const MethodConfig&, const MethodContext&)>;
const Registry<MethodBuilder>& methods();

template <class V>
void MethodConfig::visit(V& v) {
  v("name", name, "the protection's name in reports (default: the method)");
  v.kind("method", method, options, methods(), "how images are protected");
}

// The method `config` describes; InputError for bad options (a missing file, a bad key).
std::unique_ptr<Method> build_method(const MethodConfig& config, const MethodContext& context);

}  // namespace mf::protect
