#include "trainers/trainer_kinds.h"

#include "core/dist/context.h"
#include "core/error.h"

#include <map>

namespace mf::trainers {

std::unique_ptr<Trainer> build_trainer(const Config& config, std::shared_ptr<dist::Context> dist) {
  using Builder = std::unique_ptr<Trainer> (*)(const Config&, std::shared_ptr<dist::Context>);
  static const std::map<std::string, Builder> builders = {
      {"spam", make_spam_trainer}, {"uep", make_uep_trainer}, {"pgd", make_pgd_trainer}, {"classifier", make_classifier_trainer}};
  const std::string& kind = protection::trainer_kinds().at(config.trainer.kind).name;
  auto it = builders.find(kind);
  if (it == builders.end()) fail_runtime("trainer kind '{}' is declared but no trainer builds it", kind);
  return it->second(config, dist ? std::move(dist) : std::make_shared<dist::Context>());
}

}  // namespace mf::trainers
