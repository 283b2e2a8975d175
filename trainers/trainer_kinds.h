// The trainers the `trainer.kind` registry builds (trainers/trainers.cpp lists them).
#pragma once

#include "trainers/trainer.h"

namespace mf::trainers {

std::unique_ptr<Trainer> make_spam_trainer(const Config& config, std::shared_ptr<dist::Context> dist);
std::unique_ptr<Trainer> make_uep_trainer(const Config& config, std::shared_ptr<dist::Context> dist);
std::unique_ptr<Trainer> make_pgd_trainer(const Config& config, std::shared_ptr<dist::Context> dist);
std::unique_ptr<Trainer> make_classifier_trainer(const Config& config, std::shared_ptr<dist::Context> dist);

}  // namespace mf::trainers
