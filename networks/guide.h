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
// compression. With guide_crops a detector's loss is that of fixed boxes around the face it
// found in the clean image (boxes_around), which has no box selection, so it may take passes.
#pragma once

#include "networks/ensemble.h"
#include "networks/generator_config.h"

#include <memory>
#include <string>
#include <vector>

namespace mf::networks {

struct GuideOptions {
  // A classifier's loss moves away from its `top_k` highest classes at the clean image
  // together, weighed equally or by their clean probabilities (away_cross_entropy).
  int64_t top_k = 1;
  bool by_clean_probability = false;
  // > 0: the second map, through JPEG at this quality.
  double jpeg_quality = 0;
  // > 0: a detector's loss is that of this many fixed boxes around its clean face.
  int64_t crops = 0;
};

class Guide {
 public:
  Guide(std::vector<std::shared_ptr<Victim>> victims, GuideOptions options);

  // The guidance map [N, 3 or 6, H, W] for images x in [0, 1]: each victim's gradient
  // scaled to a standard deviation of 1/4 per image, averaged over the victims, then the
  // same of the gradients through JPEG when jpeg_quality is set; detached. Computes
  // gradients even under a NoGradGuard. A classifier's gradient moves away from its entry
  // of `away` (one per victim: log-weights [N, C] of away_from_top_classes; with crops a
  // detector's clean face boxes [N, 4]; else empty); left empty, it is filled from each
  // victim's output at x, so that later calls move away from the same classes and score
  // boxes around the same faces.
  at::Tensor operator()(const at::Tensor& x, std::vector<at::Tensor>& away) const;

  const std::vector<std::shared_ptr<Victim>>& victims() const { return victims_; }

  // TorchScript source of `def guidance(self, x, classes: List[Tensor])`, the same
  // computation for an exported twin whose submodules guide0, guide1, ... are the victims'
  // networks (export/), with the methods it calls.
  std::string script() const;

 private:
  std::vector<std::shared_ptr<Victim>> victims_;
  GuideOptions options_;
  at::Tensor crop_draws_;  // [1, crops, 3]: the boxes_around draws, fixed
};

// The guide of the victims `names` of `victims`; nullptr when `names` is empty.
std::shared_ptr<Guide> make_guide(const std::vector<std::string>& names, const VictimEnsemble& victims, GuideOptions options);
// The guide a generator config asks for (generator.guide, guide_top_k, guide_top_k_weights,
// guide_jpeg, guide_crops); nullptr when it names no guide.
std::shared_ptr<Guide> make_guide(const GeneratorConfig& config, const VictimEnsemble& victims);

}  // namespace mf::networks
