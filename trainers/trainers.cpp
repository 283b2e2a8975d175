#include "trainers/trainer_kinds.h"

#include "core/dist/context.h"

namespace mf::trainers {

const Registry<TrainerBuilder>& trainer_kinds() {
  static const Registry<TrainerBuilder> registry("trainer", {
      {"spam", "A SPAM generator over the dataset against the victim ensemble.", options_of<config::NoOptions>(), make_spam_trainer},
      {"uep", "One universal perturbation shared by every image.", options_of<UepOptions>(), make_uep_trainer},
      {"pgd", "Per-image projected gradient descent (a baseline, and the strongest protect mode).", options_of<PgdOptions>(), make_pgd_trainer},
      {"classifier", "Supervised training of a built-in surrogate victim on a labelled dataset.", options_of<ClassifierOptions>(), make_classifier_trainer},
  });
  return registry;
}

std::unique_ptr<Trainer> build_trainer(const Config& config, std::shared_ptr<dist::Context> dist) {
  return trainer_kinds().at(config.trainer.kind).build(config, dist ? std::move(dist) : std::make_shared<dist::Context>());
}

}  // namespace mf::trainers
