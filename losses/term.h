// LossTerm: one weighted term of a protection's objective, built from its YAML element by
// the `losses` registry. compute() returns a scalar to minimise and reports named metrics.
#pragma once

#include "losses/loss_config.h"
#include "losses/metrics.h"
#include "losses/robustness.h"
#include "networks/ensemble.h"

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mf::losses {


// Everything one step's terms may look at. Victim outputs are computed once per batch and
// shared by the terms that use the same victim; clean outputs without gradients.
class StepContext {
 public:
  // `seen`: x_adv after robustness transforms (none when its images are undefined).
  StepContext(const networks::VictimEnsemble& victims, at::Tensor x, at::Tensor delta, Transformed seen, at::Tensor labels,
              at::Tensor face_boxes, uint64_t seed);

  const at::Tensor& x() const { return x_; }          // clean images [N, 3, H, W] in [0, 1]
  const at::Tensor& delta() const { return delta_; }  // the perturbation
  const at::Tensor& x_adv() const { return x_adv_; }  // clamp(x + delta, 0, 1)
  const at::Tensor& seen() const { return seen_; }    // x_adv after robustness transforms: what victims see
  const at::Tensor& labels() const { return labels_; }          // [N] int64, -1 unknown
  const at::Tensor& face_boxes() const { return face_boxes_; }  // [N, 4] in pixels of x, -1 unknown
  const Placement& placement() const { return placement_; }    // where the transforms moved x's content in seen
  const networks::VictimEnsemble& victims() const { return victims_; }
  // Seeds randomness that must be the same on resume (e.g. the refusal prompt of a step).
  uint64_t seed() const { return seed_; }

  // Gives each victim a copy of seen() that is a leaf of its own, so that each victim's
  // gradient can be taken apart (trainer.balance_victims); victim_inputs() lists them.
  void separate_victims() { separate_ = true; }
  std::vector<at::Tensor> victim_inputs() const;

  // What the victim is given: seen(), or with separate_victims() its own copy of it.
  at::Tensor input(networks::Victim& victim);
  // The victim's output for what it sees (with gradients), and for the clean images.
  const at::Tensor& adversarial(networks::Victim& victim);
  const at::Tensor& clean(networks::Victim& victim);

 private:
  const networks::VictimEnsemble& victims_;
  at::Tensor x_, delta_, x_adv_, seen_, labels_, face_boxes_;
  Placement placement_;
  uint64_t seed_;
  bool separate_ = false;
  // In the order the terms first use them: the gradients add up in a fixed order, so that a
  // run repeats to the bit, resumed or not (a map by address would order them by chance).
  std::vector<std::pair<networks::Victim*, at::Tensor>> inputs_;
  std::map<networks::Victim*, at::Tensor> adversarial_, clean_;
};

class LossTerm {
 public:
  virtual ~LossTerm() = default;

  // Adversarial terms attack victims; quality terms keep the image unchanged to a person.
  virtual bool adversarial() const = 0;
  // The value to minimise, before the term's weight; adds metrics named "<term>/<what>".
  virtual at::Tensor compute(StepContext& ctx, StepMetrics& metrics) = 0;

  const std::string& name() const { return name_; }
  double weight() const { return weight_; }

 protected:
  explicit LossTerm(const LossConfig& config) : name_(config.name), weight_(config.weight) {}

 private:
  std::string name_;
  double weight_;
};

// An adversarial term that applies to some victims: it sums its per-victim value over them,
// each weighted by the victim's weight and the term's victim_weights.
class VictimTerm : public LossTerm {
 public:
  bool adversarial() const override { return true; }
  at::Tensor compute(StepContext& ctx, StepMetrics& metrics) override;

 protected:
  VictimTerm(const LossConfig& config, const networks::VictimEnsemble& victims, std::vector<std::string> kinds);
  // The term for one victim; metrics go under "<term>/<victim>/<what>".
  virtual at::Tensor compute_one(StepContext& ctx, networks::Victim& victim, StepMetrics& metrics, const std::string& prefix) = 0;

 private:
  std::vector<std::pair<std::shared_ptr<networks::Victim>, double>> targets_;
};

// The victims a term applies to: those named in config.victims, or every victim whose kind
// is in `kinds`. A named victim of another kind, or no victim at all, is an InputError.
std::vector<std::pair<std::shared_ptr<networks::Victim>, double>> select_victims(const LossConfig& config,
                                                                                 const networks::VictimEnsemble& victims,
                                                                                 const std::vector<std::string>& kinds);

}  // namespace mf::losses
