#include "losses/loss_config.h"

namespace mf::losses {

const Registry<LossBuilder>& loss_terms() {
  using config::NoOptions;
  static const Registry<LossBuilder> registry("loss term", {
      {"untargeted_ce", "Classifier: push away from the clean prediction.", options_of<NoOptions>(), {}},
      {"targeted_ce", "Classifier: pull towards a target class.", options_of<NoOptions>(), {}},
      {"cw_margin", "Classifier: Carlini-Wagner margin.", options_of<NoOptions>(), {}},
      {"entropy", "Classifier: push the output distribution towards uniform.", options_of<NoOptions>(), {}},
      {"embedding_dodge", "Embedder: cosine distance from the clean embedding.", options_of<NoOptions>(), {}},
      {"embedding_impersonate", "Embedder: towards a target embedding.", options_of<NoOptions>(), {}},
      {"collapse", "Any feature victim: drive every image's features to one fixed vector.", options_of<NoOptions>(), {}},
      {"exploding", "Any feature victim: grow the feature norm.", options_of<NoOptions>(), {}},
      {"detection_suppress", "Detector: lower the scores of boxes overlapping the face.", options_of<NoOptions>(), {}},
      {"refusal", "MLLM: teacher-forced cross-entropy of a refusal answer.", options_of<NoOptions>(), {}},
      {"l1", "Quality: mean absolute perturbation.", options_of<NoOptions>(), {}},
      {"l2", "Quality: mean squared perturbation.", options_of<NoOptions>(), {}},
      {"linf_soft", "Quality: a smooth maximum of the perturbation.", options_of<NoOptions>(), {}},
      {"rgb_gradient", "Quality: spatial gradients of each colour channel, protected vs original.", options_of<NoOptions>(), {}},
      {"magnitude", "Quality: mean perturbation magnitude per pixel.", options_of<NoOptions>(), {}},
      {"ssim", "Quality: 1 - SSIM.", options_of<NoOptions>(), {}},
      {"tv", "Quality: total variation of the perturbation.", options_of<NoOptions>(), {}},
  });
  return registry;
}

}  // namespace mf::losses
