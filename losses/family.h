// What the files that define loss terms share: the term interface, option helpers, and
// the lists of registry entries each family contributes (collected by losses/terms.cpp).
#pragma once

#include "core/config/config.h"
#include "core/error.h"
#include "losses/term.h"

#include <memory>
#include <vector>

namespace mf::losses {

// The factory function of a term class T(const LossConfig&, const VictimEnsemble&).
template <class T>
std::shared_ptr<LossTerm> make_term(const LossConfig& config, const networks::VictimEnsemble& victims) {
  return std::make_shared<T>(config, victims);
}

std::vector<TermEntry> classifier_terms();
std::vector<TermEntry> embedding_terms();
std::vector<TermEntry> detector_terms();
std::vector<TermEntry> refusal_terms();
std::vector<TermEntry> quality_terms();

}  // namespace mf::losses
