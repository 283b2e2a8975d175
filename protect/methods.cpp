#include "protect/methods.h"

#include "core/error.h"
#include "data/random.h"
#include "protect/exported_model.h"

namespace mf::protect {

at::Tensor Method::decode(const at::Tensor&, const std::vector<std::string>&) {
  fail_input("{} cannot be undone: only K-RTIO (with its key) and a UEP decode", describe());
}

const Registry<MethodBuilder>& methods() {
  static const Registry<MethodBuilder> registry("protection method", {
      {"model", "An exported generator or UEP (maskforge export).", options_of<ModelOptions>(), build_model},
      {"pgd", "Per-image PGD against a training config's victims, losses and eps (slow, strongest).", options_of<PgdMethodOptions>(), build_pgd},
      {"none", "The images unchanged: the baseline of every evaluation.", options_of<config::NoOptions>(), build_none},
      {"noise", "Uniform noise in [-eps, eps].", options_of<NoiseOptions>(), build_noise},
      {"blur", "Gaussian blur.", options_of<BlurOptions>(), build_blur},
      {"pixelate", "Pixelization: b x b cells replaced by their mean.", options_of<PixelateOptions>(), build_pixelate},
      {"dp_pix", "DP-Pix (Fan 2018): pixelization plus Laplace noise, epsilon-differentially private per cell.", options_of<DpPixOptions>(),
       build_dp_pix},
      {"dp_blur", "DP-Blur (Fan 2019): DP-Pix at a small cell size, upsampled, then Gaussian blur.", options_of<DpBlurOptions>(), build_dp_blur},
      {"krtio", "K-RTIO (Rajabi 2021): keyed, reversible overlays of k block-permuted images.", options_of<KrtioOptions>(), build_krtio},
  });
  return registry;
}

std::unique_ptr<Method> build_method(const MethodConfig& config, const MethodContext& context) {
  return methods().at(config.method).build(config, context);
}

std::unique_ptr<Method> build_model(const MethodConfig& config, const MethodContext& context) {
  return load_exported(config.options.as<ModelOptions>(), context.device);
}

uint64_t image_seed(uint64_t seed, const std::string& id) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : id) h = (h ^ c) * 0x100000001b3ULL;
  return data::mix(seed, h);
}

}  // namespace mf::protect
