// Adversarial terms against classifiers: away from the clean prediction or label (plain or
// relativistic), towards a target class, the Carlini-Wagner margin, and towards a uniform output.
#include "losses/family.h"

#include <ATen/ATen.h>

namespace mf::losses {
namespace {

struct UntargetedOptions {
  std::string against = "prediction";
  double cap = 10;
  int64_t top_k = 1;
  std::string top_k_weights = "equal";
  template <class V>
  void visit(V& v) {
    v("against", against, "the class to move away from: the clean prediction, or the dataset label (the prediction where an image has none)",
      config::one_of({"prediction", "label"}));
    v("cap", cap, "cross-entropy beyond which an image counts as done (keeps the loss bounded)", config::positive());
    v("top_k", top_k,
      "with against: prediction, move away from the clean image's k highest classes together (-log of their summed probability): "
      "2 or 3 keeps a misread image from being moved onto its true class, usually the runner-up",
      config::at_least(1));
    v("top_k_weights", top_k_weights,
      "how the top_k classes count: equal, or clean (each by its clean probability: a sure image is pushed off its prediction, "
      "a doubtful one off the classes after it too)",
      config::one_of({"equal", "clean"}));
  }
  void validate() const {
    if (top_k > 1 && against == "label") throw config::FieldError("top_k", "top_k counts the clean prediction's classes; with against: label it must be 1");
    if (top_k_weights != "equal" && top_k == 1) throw config::FieldError("top_k_weights", "top_k_weights weighs the top_k classes: set top_k to 2 or more");
  }
};

struct TargetedOptions {
  int64_t target_class = 0;
  template <class V>
  void visit(V& v) {
    v("target_class", target_class, "the class every image should be taken for", config::non_negative());
  }
};

struct CwOptions {
  double kappa = 0;
  int64_t target_class = -1;
  template <class V>
  void visit(V& v) {
    v("kappa", kappa, "confidence margin: the loss stops falling once the wrong class leads by kappa", config::non_negative());
    v("target_class", target_class, "-1: untargeted (away from the clean prediction); else the target class", config::at_least(-1));
  }
};

// The classes each image is pushed away from, as log-weights [N, C] (away_cross_entropy): its
// clean prediction's k highest, or its label (the clean prediction where the label is
// unknown, as when protecting photos nobody labelled).
at::Tensor away_weights(StepContext& ctx, networks::Victim& victim, const UntargetedOptions& o) {
  const at::Tensor& clean = ctx.clean(victim);
  if (o.against == "prediction") return networks::away_from_top_classes(clean, o.top_k, o.top_k_weights == "clean");
  at::Tensor predicted = clean.argmax(1);
  const at::Tensor labels = ctx.labels().to(predicted.device());
  return networks::away_from_class(at::where(labels >= 0, labels, predicted), clean.size(1));
}

void check_class(int64_t target, const at::Tensor& logits, const std::string& term, const networks::Victim& victim) {
  if (target >= logits.size(1)) fail_input("{}: target_class {} but victim '{}' has {} classes", term, target, victim.name(), logits.size(1));
}

// Away from the source class: -min(CE, cap). Relativistic (CDA, Naseer et al. 2019): the
// cross-entropy of the adversarial logits *minus the clean ones*, so the generator is
// rewarded for how far it moved every logit relative to the clean image, not for an
// absolute score that one victim may already give up on.
template <bool Relativistic>
class UntargetedCe final : public VictimTerm {
 public:
  UntargetedCe(const LossConfig& c, const networks::VictimEnsemble& v) : VictimTerm(c, v, {"classifier"}), o_(c.options.as<UntargetedOptions>()) {}
  at::Tensor compute_one(StepContext& ctx, networks::Victim& victim, StepMetrics& m, const std::string& p) override {
    const at::Tensor& logits = ctx.adversarial(victim);
    if (o_.top_k > logits.size(1)) fail_input("{}: top_k is {}, but victim '{}' has {} classes", name(), o_.top_k, victim.name(), logits.size(1));
    at::Tensor away = away_weights(ctx, victim, o_);
    at::Tensor ce = networks::away_cross_entropy(Relativistic ? logits - ctx.clean(victim) : logits, away);
    m[p + "fooling_rate"] = away.gather(1, logits.argmax(1, true)).isinf().to(at::kFloat).mean().detach();
    return -ce.clamp_max(o_.cap).mean();
  }

 private:
  UntargetedOptions o_;
};

class TargetedCe final : public VictimTerm {
 public:
  TargetedCe(const LossConfig& c, const networks::VictimEnsemble& v) : VictimTerm(c, v, {"classifier"}), o_(c.options.as<TargetedOptions>()) {}
  at::Tensor compute_one(StepContext& ctx, networks::Victim& victim, StepMetrics& m, const std::string& p) override {
    const at::Tensor& logits = ctx.adversarial(victim);
    check_class(o_.target_class, logits, name(), victim);
    at::Tensor t = at::full({logits.size(0)}, o_.target_class, logits.options().dtype(at::kLong));
    m[p + "target_rate"] = logits.argmax(1).eq(t).to(at::kFloat).mean().detach();
    return at::cross_entropy_loss(logits, t);
  }

 private:
  TargetedOptions o_;
};

class CwMargin final : public VictimTerm {
 public:
  CwMargin(const LossConfig& c, const networks::VictimEnsemble& v) : VictimTerm(c, v, {"classifier"}), o_(c.options.as<CwOptions>()) {}
  at::Tensor compute_one(StepContext& ctx, networks::Victim& victim, StepMetrics& m, const std::string& p) override {
    const at::Tensor& z = ctx.adversarial(victim);
    const bool targeted = o_.target_class >= 0;
    if (targeted) check_class(o_.target_class, z, name(), victim);
    at::Tensor y = targeted ? at::full({z.size(0)}, o_.target_class, z.options().dtype(at::kLong)) : ctx.clean(victim).argmax(1);
    at::Tensor own = z.gather(1, y.unsqueeze(1)).squeeze(1);
    at::Tensor others = z.scatter(1, y.unsqueeze(1), -1e9).amax(1);
    // Untargeted: the clean class must fall below the best other; targeted: the target must lead.
    at::Tensor margin = targeted ? others - own : own - others;
    m[p + (targeted ? "target_rate" : "fooling_rate")] = margin.lt(0).to(at::kFloat).mean().detach();
    return margin.clamp_min(-o_.kappa).mean();
  }

 private:
  CwOptions o_;
};

class Entropy final : public VictimTerm {
 public:
  Entropy(const LossConfig& c, const networks::VictimEnsemble& v) : VictimTerm(c, v, {"classifier"}) {}
  at::Tensor compute_one(StepContext& ctx, networks::Victim& victim, StepMetrics& m, const std::string& p) override {
    at::Tensor log_p = ctx.adversarial(victim).log_softmax(1);
    const double log_c = std::log(static_cast<double>(log_p.size(1)));
    m[p + "normalised_entropy"] = (-(log_p.exp() * log_p).sum(1)).mean().detach() / log_c;
    // KL(uniform || p): zero exactly when the output is uniform.
    return -log_p.mean(1).mean() - log_c;
  }
};

}  // namespace

std::vector<TermEntry> classifier_terms() {
  return {
      {"untargeted_ce", "Classifier: push away from the clean prediction (or the label); minimises -min(CE, cap).",
       options_of<UntargetedOptions>(), {{"classifier"}, make_term<UntargetedCe<false>>}},
      {"relativistic_ce", "Classifier: CDA's relativistic loss, -min(CE(adversarial - clean logits, clean class), cap).",
       options_of<UntargetedOptions>(), {{"classifier"}, make_term<UntargetedCe<true>>}},
      {"targeted_ce", "Classifier: pull every image towards target_class (cross-entropy).", options_of<TargetedOptions>(),
       {{"classifier"}, make_term<TargetedCe>}},
      {"cw_margin", "Classifier: Carlini-Wagner margin between the clean (or target) class and the best other, floored at -kappa.",
       options_of<CwOptions>(), {{"classifier"}, make_term<CwMargin>}},
      {"entropy", "Classifier: push the output distribution towards uniform (KL from uniform).", options_of<config::NoOptions>(),
       {{"classifier"}, make_term<Entropy>}},
  };
}

}  // namespace mf::losses
