// Guide: what a guided generator (generator.guide) sees beside the image: the input
// gradient of victims' own loss at the image, the direction one step of per-image PGD would
// take: a classifier's cross-entropy against its prediction at the clean image, a detector's
// cross-entropy towards "no face" (-log(1 - score)) summed over its boxes, an mllm's
// teacher-forced cross-entropy of its first refusal target after its first prompt (the
// refusal term's loss for one pair). A plain generator learns only the part of an attack
// that many images share; with this map it can learn the image-specific part too, and with
// it at the image protected so far, take further steps (generator.guide_steps; README,
// "Guided generators"). With generator.guide_jpeg it also gives each victim's gradient taken
// through the differentiable JPEG (data/jpeg.h): the direction of an attack that survives
// compression.
#pragma once

#include "networks/ensemble.h"
#include "networks/generator_config.h"

#include <memory>
#include <string>
#include <vector>

namespace mf::networks {

class Guide {
 public:
  // A classifier's loss moves away from its `top_k` highest classes at the clean image
  // together, weighed equally or by their clean probabilities (away_cross_entropy).
  // jpeg_quality > 0 adds the second map, through JPEG at that quality.
  Guide(std::vector<std::shared_ptr<Victim>> victims, int64_t top_k, bool by_clean_probability, double jpeg_quality = 0);

  // The guidance map [N, 3 or 6, H, W] for images x in [0, 1]: each victim's gradient
  // scaled to a standard deviation of 1/4 per image, averaged over the victims, then the
  // same of the gradients through JPEG when jpeg_quality is set; detached. Computes
  // gradients even under a NoGradGuard. A classifier's gradient moves away from its entry
  // of `away` (one per victim: log-weights [N, C] of away_from_top_classes, empty for a
  // detector); left empty, it is filled from each classifier's output at x, so that later
  // calls move away from the same classes.
  at::Tensor operator()(const at::Tensor& x, std::vector<at::Tensor>& away) const;

  const std::vector<std::shared_ptr<Victim>>& victims() const { return victims_; }

  // TorchScript source of `def guidance(self, x, classes: List[Tensor])`, the same
  // computation for an exported twin whose submodules guide0, guide1, ... are the victims'
  // networks (export/), with the methods it calls.
  std::string script() const;

 private:
  std::vector<std::shared_ptr<Victim>> victims_;
  int64_t top_k_;
  bool by_clean_probability_;
  double jpeg_quality_;
};

// The guide of the victims `names` of `victims`; nullptr when `names` is empty.
std::shared_ptr<Guide> make_guide(const std::vector<std::string>& names, int64_t top_k, bool by_clean_probability, const VictimEnsemble& victims,
                                  double jpeg_quality = 0);
// The guide a generator config asks for (generator.guide, guide_top_k, guide_top_k_weights,
// guide_jpeg); nullptr when it names no guide.
std::shared_ptr<Guide> make_guide(const GeneratorConfig& config, const VictimEnsemble& victims);

}  // namespace mf::networks
