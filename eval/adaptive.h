// The adaptive attacker: a copy of a classifier victim fine-tuned on protected training
// images with their true labels, as SPAM-style protections are usually broken (and as a
// source-attribution classifier "adapts" to a privacy method).
#pragma once

#include "eval/eval_config.h"
#include "networks/victim.h"
#include "protect/method.h"

#include <memory>

namespace mf::eval {

// A fresh copy of `victim` fine-tuned for config.steps Adam steps on config.images protected
// by `method` (8-bit, as saved); returned frozen, named "<victim>+adapted".
std::shared_ptr<networks::Victim> adapt(const networks::VictimConfig& victim, protect::Method& method, const AdaptiveConfig& config,
                                        const c10::Device& device, uint64_t seed);

}  // namespace mf::eval
