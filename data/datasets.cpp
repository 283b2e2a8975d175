#include "data/builders.h"
#include "data/dataset_options.h"

namespace mf::data {

const Registry<DatasetBuilder>& datasets() {
  static const Registry<DatasetBuilder> registry("dataset", {
      {"image_folder", "A folder of JPEG, PNG, BMP and WebP images, searched recursively.", options_of<ImageFolderOptions>(), build_image_folder},
      {"manifest", "A CSV listing image paths with optional labels, identities and face boxes.", options_of<ManifestOptions>(), build_manifest},
      {"synthetic", "Procedural labelled images (shapes on textures), deterministic from run.seed; needs no files.", options_of<SyntheticOptions>(), build_synthetic},
      {"cifar10_binary", "The original CIFAR-10 binary batches.", options_of<Cifar10BinaryOptions>(), build_cifar10_binary},
  });
  return registry;
}

DatasetSplits build_datasets(const DataConfig& config, uint64_t seed) { return datasets().at(config.dataset).build(config, seed); }

}  // namespace mf::data
