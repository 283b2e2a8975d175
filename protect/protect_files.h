// `maskforge protect`: one image or a whole folder (recursively) protected at each photo's
// native resolution into an output folder, keeping names and sub-folders, with a summary
// and a per-image CSV.
#pragma once

#include "protect/method.h"

#include <filesystem>

namespace mf::protect {

struct ProtectOptions {
  std::filesystem::path input, output;
  int jpeg_quality = 95;
  int64_t batch = 4;    // images of one size protected together
  bool decode = false;  // undo the method instead (K-RTIO with its key, a UEP)
  bool skip_existing = false;  // leave images whose output exists (continuing an interrupted folder)
};

struct ProtectSummary {
  int64_t images = 0, skipped = 0, existing = 0;
  double megapixels = 0, seconds = 0, mean_ssim = 0, mean_psnr = 0;
  // Decoding: the share of input pixel values at 0 or 1, where the protection may have been
  // clipped, so that decoding cannot restore them exactly.
  double saturated = 0;
};

// Protects (or decodes) every image of options.input with `method`; each image's id is its
// path relative to the input folder. Unreadable images are skipped and listed; an output
// folder equal to or inside the input folder is an InputError, and no input file is ever
// overwritten. Outputs appear whole or not at all. Writes <output>/protect.csv (appends to
// it with skip_existing).
ProtectSummary protect_files(Method& method, const ProtectOptions& options, const c10::Device& device);

}  // namespace mf::protect
