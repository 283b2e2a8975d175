// The per-image transforms between decoding and batching: resize the shorter side, crop a
// square (random or centre), flip horizontally. Face boxes follow the pixels.
#pragma once

#include "data/dataset.h"
#include "data/random.h"

namespace mf::data {

struct Transform {
  int64_t resize = 0;        // shorter side after resizing; 0 keeps the size
  int64_t crop = 0;          // square crop side; 0 keeps the whole image
  bool random_crop = false;  // else the centre
  bool hflip = false;        // flip with probability 1/2

  // Applies the transform in place, drawing its random choices from `rng`.
  void apply(Sample& sample, Rng& rng) const;
};

}  // namespace mf::data
