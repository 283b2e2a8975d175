// The trainer behind `spam` and `uep`: a trainable source of perturbations (a generator, or
// one universal perturbation) optimised with AdamW so that x + delta fools the victim
// ensemble under the configured losses and eps schedule, while staying close to x.
#pragma once

#include "losses/eps.h"
#include "networks/ensemble.h"
#include "trainers/trainer.h"

#include <torch/nn/module.h>

#include <functional>
#include <memory>
#include <string>

namespace mf::trainers {

// What `spam` and `uep` differ in.
class PerturbationSource {
 public:
  virtual ~PerturbationSource() = default;
  // The trained module, saved in checkpoints as `name`.pt.
  virtual std::string name() const = 0;
  virtual torch::nn::Module& module() = 0;
  // The perturbation of `images` within the schedule's budget at `step`.
  virtual at::Tensor perturb(const at::Tensor& images, const losses::EpsSchedule& eps, int64_t step) = 0;
  // After each optimizer step, with that step's eps (the universal perturbation projects
  // itself into the eps ball).
  virtual void after_step(double eps) {}
};

// `make_source` runs inside the trainer's constructor, after run.seed is set, so that the
// source's initial weights follow the seed, and after the victims are built (a guided
// generator computes its guidance with some of them).
using SourceFactory = std::function<std::unique_ptr<PerturbationSource>(const networks::VictimEnsemble&)>;
std::unique_ptr<Trainer> make_perturbation_trainer(const Config& config, std::shared_ptr<dist::Context> dist, const SourceFactory& make_source);

}  // namespace mf::trainers
