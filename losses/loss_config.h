// One element of the `losses` list: a weighted loss term, optionally restricted to some victims.
#pragma once

#include "core/config/config.h"

#include <map>
#include <string>
#include <vector>

namespace mf::losses {

class LossTerm;
struct LossConfig;

}  // namespace mf::losses

namespace mf::networks {
class VictimEnsemble;
}

namespace mf::losses {

// How a registered loss term is made, and which victims it can attack.
struct TermFactory {
  std::vector<std::string> kinds;  // victim kinds an adversarial term accepts; empty for quality terms
  std::function<std::shared_ptr<LossTerm>(const LossConfig&, const networks::VictimEnsemble&)> make;
};
using TermEntry = Registry<TermFactory>::Entry;

// The registered loss terms (losses/terms.cpp).
const Registry<TermFactory>& loss_terms();

struct LossConfig {
  std::string name;
  config::Options options;
  double weight = 1.0;
  std::vector<std::string> victims;
  std::map<std::string, double> victim_weights;

  template <class V>
  void visit(V& v) {
    v.kind("name", name, options, loss_terms(), "the loss term");
    v("weight", weight, "weight of the term in the total loss", config::non_negative());
    v("victims", victims, "victims the term applies to; empty: every victim of a kind it accepts");
    v("victim_weights", victim_weights, "per-victim factors on top of the victims' own weights", config::non_negative());
  }
};

}  // namespace mf::losses
