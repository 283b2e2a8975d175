#include "networks/generator_config.h"

namespace mf::networks {

const Registry<GeneratorBuilder>& generators() {
  static const Registry<GeneratorBuilder> registry("generator", {
      {"resnet", "Encoder (7x7 conv, two stride-2 downsamplings), residual blocks, decoder (two upsamplings).", options_of<ResnetOptions>(), {}},
      {"unet", "U-Net with skip connections, optional noise channels at the bottleneck.", options_of<UnetOptions>(), {}},
  });
  return registry;
}

}  // namespace mf::networks
