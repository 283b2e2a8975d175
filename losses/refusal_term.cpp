// The adversarial term against multimodal LLMs: teacher-forced cross-entropy (or
// Carlini-Wagner margin) of a refusal answer given the protected image and a prompt. Each step
// samples prompts ("shadow questions") and refusal templates, so the protection holds for
// questions it never saw.
#include "data/random.h"
#include "losses/family.h"

#include <ATen/ATen.h>

namespace mf::losses {
namespace {

struct RefusalOptions {
  int64_t pairs_per_step = 1;
  std::string loss = "cross_entropy";
  double kappa = 0;
  template <class V>
  void visit(V& v) {
    v("pairs_per_step", pairs_per_step, "(prompt, refusal) pairs sampled per step; the loss is their mean", config::at_least(1));
    v("loss", loss,
      "cross_entropy of the refusal's tokens, or margin: at each token, the best other token's log-probability minus the "
      "refusal's, floored at -kappa, so an image greedy decoding already refuses stops taking the generator's capacity",
      config::one_of({"cross_entropy", "margin"}));
    v("kappa", kappa, "with loss: margin, the lead the refusal's every token needs before its image counts as done", config::non_negative());
  }
  void validate() const {
    if (kappa > 0 && loss != "margin") throw config::FieldError("kappa", "kappa is the margin's floor: set loss: margin");
  }
};

// Per token [N, T]: how far the refusal is from being greedy decoding's choice. Negative where
// it leads; greedy decoding says the whole refusal exactly when every token's is negative.
at::Tensor refusal_margin(const networks::TeacherForced& read) {
  at::Tensor own = read.target_log_p();
  at::Tensor others = read.log_p.scatter(2, read.wanted.unsqueeze(2), -1e9).amax(2);
  return others - own;
}

class Refusal final : public VictimTerm {
 public:
  Refusal(const LossConfig& c, const networks::VictimEnsemble& v) : VictimTerm(c, v, {"mllm"}), o_(c.options.as<RefusalOptions>()) {}

  at::Tensor compute_one(StepContext& ctx, networks::Victim& victim, StepMetrics& m, const std::string& p) override {
    const auto& tokens = victim.tokens();
    data::Rng rng(data::mix(ctx.seed(), std::hash<std::string>{}(victim.name())));
    at::Tensor total;
    at::Tensor accuracy = at::zeros({}, ctx.x().options().dtype(at::kFloat)), refused = at::zeros_like(accuracy);
    for (int64_t k = 0; k < o_.pairs_per_step; ++k) {
      const auto& prompt = tokens.prompts[rng.below(tokens.prompts.size())];
      const auto& target = tokens.targets[rng.below(tokens.targets.size())];
      const networks::TeacherForced read = victim.teacher_forced(ctx.input(victim), prompt, target);
      at::Tensor loss = o_.loss == "margin" ? refusal_margin(read).clamp_min(-o_.kappa).mean() : -read.target_log_p().mean();
      total = total.defined() ? total + loss : loss;
      at::Tensor hit = read.log_p.argmax(2).eq(read.wanted);
      accuracy += hit.to(at::kFloat).mean();
      refused += hit.all(1).to(at::kFloat).mean();
    }
    const double pairs = static_cast<double>(o_.pairs_per_step);
    m[p + "token_accuracy"] = accuracy / pairs;
    m[p + "refusal_rate"] = refused / pairs;
    return total / pairs;
  }

 private:
  RefusalOptions o_;
};

}  // namespace

std::vector<TermEntry> refusal_terms() {
  return {{"refusal", "MLLM: teacher-forced cross-entropy (or margin) of a refusal answer given the protected image and a sampled prompt.",
           options_of<RefusalOptions>(), {{"mllm"}, make_term<Refusal>}}};
}

}  // namespace mf::losses
