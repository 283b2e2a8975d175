#include "losses/family.h"

namespace mf::losses {

const Registry<TermFactory>& loss_terms() {
  static const Registry<TermFactory> registry("loss term", [] {
    std::vector<TermEntry> all;
    for (auto family : {classifier_terms, embedding_terms, detector_terms, refusal_terms, quality_terms}) {
      for (auto& e : family()) all.push_back(std::move(e));
    }
    return all;
  }());
  return registry;
}

}  // namespace mf::losses
