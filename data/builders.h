// The builders of the registered datasets (data/datasets.cpp lists them).
#pragma once

#include "data/data_config.h"
#include "data/dataset.h"

namespace mf::data {

DatasetSplits build_image_folder(const DataConfig& config, uint64_t seed);
DatasetSplits build_manifest(const DataConfig& config, uint64_t seed);
DatasetSplits build_synthetic(const DataConfig& config, uint64_t seed);
DatasetSplits build_cifar10_binary(const DataConfig& config, uint64_t seed);

// The train and validation datasets that `config` names.
DatasetSplits build_datasets(const DataConfig& config, uint64_t seed);

}  // namespace mf::data
