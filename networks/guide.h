// Guide: what a guided generator (generator.guide) sees beside the image: the input
// gradient of victims' own loss at the clean image, the direction one step of per-image PGD
// would take: a classifier's cross-entropy against its own clean prediction, a detector's
// cross-entropy towards "no face" (-log(1 - score)) summed over its boxes. A plain generator
// learns only the part of an attack that many images share; with this map it can learn the
// image-specific part too (README, "Guided generators").
#pragma once

#include "networks/ensemble.h"

#include <memory>
#include <string>
#include <vector>

namespace mf::networks {

class Guide {
 public:
  explicit Guide(std::vector<std::shared_ptr<Victim>> victims);

  // The guidance map [N, 3, H, W] for images x in [0, 1]: each victim's gradient scaled to
  // a standard deviation of 1/4 per image, averaged over the victims; detached. Computes
  // gradients even under a NoGradGuard.
  at::Tensor operator()(const at::Tensor& x) const;

  const std::vector<std::shared_ptr<Victim>>& victims() const { return victims_; }

  // TorchScript source of `def guidance(self, x)`, the same computation for an exported
  // twin whose submodules guide0, guide1, ... are the victims' networks (export/).
  std::string script() const;

 private:
  std::vector<std::shared_ptr<Victim>> victims_;
};

// The guide of the victims `names` of `victims`; nullptr when `names` is empty.
std::shared_ptr<Guide> make_guide(const std::vector<std::string>& names, const VictimEnsemble& victims);

}  // namespace mf::networks
