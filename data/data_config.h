// The `data` section: which dataset, how images become batches.
#pragma once

#include "core/config/config.h"

#include <string>

namespace mf::data {

struct DataConfig;
struct DatasetSplits;
// Builds the train and validation datasets; `seed` fixes the split and synthetic images.
using DatasetBuilder = std::function<DatasetSplits(const DataConfig&, uint64_t seed)>;

// The registered datasets (data/datasets.cpp).
const Registry<DatasetBuilder>& datasets();

struct DataConfig {
  std::string dataset = "synthetic";
  config::Options options;  // the dataset's own options
  double val_fraction = 0.1;
  int64_t resize = 0;
  int64_t crop = 0;
  std::string crop_mode = "random";
  bool hflip = true;
  int64_t batch_size = 16;
  int64_t workers = 2;
  int64_t prefetch = 4;
  std::string on_bad_file = "skip";

  template <class V>
  void visit(V& v) {
    v.kind("dataset", dataset, options, datasets(), "where images come from");
    v("val_fraction", val_fraction, "share of images held out for validation (deterministic from run.seed) when the dataset has no validation path", config::in_range(0, 0.9));
    v("resize", resize, "resize so the shorter side has this many pixels; 0 keeps the size", config::non_negative());
    v("crop", crop, "square crop of this size after resizing; 0 keeps the whole image", config::non_negative());
    v("crop_mode", crop_mode, "where training crops are taken (validation always crops the centre)", config::one_of({"random", "center"}));
    v("hflip", hflip, "flip training images horizontally with probability 1/2");
    v("batch_size", batch_size, "images per batch on each rank", config::at_least(1));
    v("workers", workers, "decoding threads; 0 decodes in the training thread, without prefetch", config::non_negative());
    v("prefetch", prefetch, "batches decoded ahead of the trainer", config::at_least(1));
    v("on_bad_file", on_bad_file, "an unreadable or corrupt image: skip it (logged and counted) or fail", config::one_of({"skip", "fail"}));
  }
};

}  // namespace mf::data
