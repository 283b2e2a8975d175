// The trainers the `trainer.kind` registry builds (trainers/trainers.cpp lists them).
#pragma once

#include "trainers/trainer.h"

namespace mf::trainers {

std::unique_ptr<Trainer> make_spam_trainer(const Config& config);
std::unique_ptr<Trainer> make_uep_trainer(const Config& config);
std::unique_ptr<Trainer> make_pgd_trainer(const Config& config);
std::unique_ptr<Trainer> make_classifier_trainer(const Config& config);

}  // namespace mf::trainers
