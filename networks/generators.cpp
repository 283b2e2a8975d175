#include "networks/generator.h"

namespace mf::networks {

std::shared_ptr<Generator> build_resnet_generator(const GeneratorConfig& config);
std::shared_ptr<Generator> build_unet_generator(const GeneratorConfig& config);

const Registry<GeneratorBuilder>& generators() {
  static const Registry<GeneratorBuilder> registry("generator", {
      {"resnet", "Encoder (7x7 conv, two stride-2 downsamplings), residual blocks, decoder (two upsamplings).", options_of<ResnetOptions>(), build_resnet_generator},
      {"unet", "U-Net with skip connections, optional noise channels at the bottleneck.", options_of<UnetOptions>(), build_unet_generator},
  });
  return registry;
}

}  // namespace mf::networks
