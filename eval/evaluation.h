// The evaluation harness: every protection x countermeasure x victim cell of a spec,
// measured on the spec's images (protected images rounded to 8 bits, as they are saved).
#pragma once

#include "eval/eval_config.h"
#include "eval/probes.h"

#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

namespace mf::eval {

struct ProtectionResult {
  std::string name, method, description;
  Metrics quality;  // ssim, psnr, linf_255, l2 (and lpips) against the originals
  double ms_per_image = 0, megapixels_per_s = 0;
};

struct VictimResult {
  std::string name, kind;
  std::string headline;      // the metric the report leads with
  bool lower_is_better = true;  // for the headline: lower means better protected
  bool adaptive = false;     // a copy fine-tuned by the adaptive attacker (measured only on the protections it adapted to)
};

struct Cell {
  std::string protection, countermeasure, victim;
  Metrics metrics;
};

// The first report.samples images: originals, protected, and after each countermeasure.
struct Samples {
  at::Tensor original;
  std::map<std::string, at::Tensor> protected_images;                           // by protection
  std::map<std::pair<std::string, std::string>, at::Tensor> after_countermeasure;  // by (protection, countermeasure)
};

struct EvalResult {
  int64_t images = 0;
  std::vector<ProtectionResult> protections;
  std::vector<std::string> countermeasures;
  std::vector<VictimResult> victims;
  std::vector<Cell> cells;
  Samples samples;

  const Cell* cell(const std::string& protection, const std::string& countermeasure, const std::string& victim) const;
};

EvalResult evaluate(const EvalConfig& config);

}  // namespace mf::eval
