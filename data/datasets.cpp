#include "data/data_config.h"
#include "data/dataset_options.h"

namespace mf::data {

const Registry<DatasetBuilder>& datasets() {
  static const Registry<DatasetBuilder> registry("dataset", {
      {"image_folder", "A folder of JPEG, PNG, BMP and WebP images, searched recursively.", options_of<ImageFolderOptions>(), {}},
      {"manifest", "A CSV listing image paths with optional labels, identities and face boxes.", options_of<ManifestOptions>(), {}},
      {"synthetic", "Procedural labelled images (shapes on textures), deterministic from run.seed; needs no files.", options_of<SyntheticOptions>(), {}},
      {"cifar10_binary", "The original CIFAR-10 binary batches.", options_of<Cifar10BinaryOptions>(), {}},
  });
  return registry;
}

}  // namespace mf::data
