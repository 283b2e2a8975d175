// The adversarial term against multimodal LLMs: teacher-forced cross-entropy of a refusal
// answer given the protected image and a prompt. Each step samples prompts ("shadow
// questions") and refusal templates, so the protection holds for questions it never saw.
#include "data/random.h"
#include "losses/family.h"

#include <ATen/ATen.h>

namespace mf::losses {
namespace {

struct RefusalOptions {
  int64_t pairs_per_step = 1;
  template <class V>
  void visit(V& v) {
    v("pairs_per_step", pairs_per_step, "(prompt, refusal) pairs sampled per step; the loss is their mean", config::at_least(1));
  }
};

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
      at::Tensor ce = -read.target_log_p().mean();
      total = total.defined() ? total + ce : ce;
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
  return {{"refusal", "MLLM: teacher-forced cross-entropy of a refusal answer given the protected image and a sampled prompt.",
           options_of<RefusalOptions>(), {{"mllm"}, make_term<Refusal>}}};
}

}  // namespace mf::losses
