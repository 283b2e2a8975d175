#include "protection/trainer_config.h"

namespace mf::protection {

const Registry<std::monostate>& trainer_kinds() {
  static const Registry<std::monostate> registry("trainer", {
      {"spam", "A SPAM generator over the dataset against the victim ensemble.", options_of<config::NoOptions>(), {}},
      {"uep", "One universal perturbation shared by every image.", options_of<UepOptions>(), {}},
      {"pgd", "Per-image projected gradient descent (a baseline, and the strongest protect mode).", options_of<PgdOptions>(), {}},
      {"classifier", "Supervised training of a built-in surrogate victim on a labelled dataset.", options_of<ClassifierOptions>(), {}},
  });
  return registry;
}

}  // namespace mf::protection
