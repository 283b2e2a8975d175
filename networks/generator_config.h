// The `generator` section: the SPAM generator network G(x) -> bounded perturbation.
#pragma once

#include "core/config/config.h"

#include <string>
#include <vector>

namespace mf::networks {

class Generator;
struct GeneratorConfig;
using GeneratorBuilder = std::function<std::shared_ptr<Generator>(const GeneratorConfig&)>;

// The registered generator architectures (networks/generators.cpp).
const Registry<GeneratorBuilder>& generators();

struct ResnetOptions {
  int64_t width = 32;
  int64_t blocks = 4;

  template <class V>
  void visit(V& v) {
    v("width", width, "channels after the first convolution (doubled by each of the two downsamplings)", config::at_least(4));
    v("blocks", blocks, "residual blocks at the lowest resolution", config::at_least(1));
  }
};

struct UnetOptions {
  int64_t width = 16;
  int64_t depth = 4;
  int64_t noise_channels = 0;

  template <class V>
  void visit(V& v) {
    v("width", width, "channels of the first level (doubled per level, capped at 8x)", config::at_least(4));
    v("depth", depth, "encoder levels: the first keeps the resolution, each next halves it; 6 is the SPAM layout (6 down, 5 up blocks)", config::in_range(1, 8));
    v("noise_channels", noise_channels, "channels of uniform noise concatenated at the bottleneck", config::non_negative());
  }
};

struct GeneratorConfig {
  std::string arch = "resnet";
  config::Options options;
  std::string norm = "instance";
  double head_scale = 1.0;
  std::vector<std::string> guide;
  int64_t guide_steps = 1;
  int64_t guide_top_k = 1;
  std::string guide_top_k_weights = "equal";
  double guide_jpeg = 0;
  int64_t guide_crops = 0;

  // Channels the network takes: the image, and the guidance maps when guided.
  int64_t input_channels() const { return guide.empty() ? 3 : guide_jpeg > 0 ? 9 : 6; }

  template <class V>
  void visit(V& v) {
    v.kind("arch", arch, options, generators(), "generator architecture");
    v("norm", norm, "normalisation layers", config::one_of({"instance", "batch", "none"}));
    v("head_scale", head_scale,
      "factor on the output convolution's initial weights; 1 starts with a perturbation that already spends the budget, "
      "small values start near zero, which trains far slower",
      config::positive());
    v("guide", guide,
      "classifier, detector or mllm victims (TorchScript, by name) whose input gradient at the image the generator also sees; it then learns "
      "image-specific attacks a plain generator cannot. Protecting then runs these victims forward and backward once "
      "(README, \"Guided generators\")");
    v("guide_steps", guide_steps,
      "passes of a guided generator: each sees the image as protected so far and the guide's gradient there (away from the clean "
      "image's classes) and adds to the perturbation, as the steps of per-image PGD do; protecting runs the guide once per pass",
      config::at_least(1));
    v("guide_top_k", guide_top_k,
      "how many of a guide classifier's highest classes at the clean image its gradient moves away from together (-log of their "
      "summed probability): 2 or 3 keeps a misread image from being moved onto its true class, usually the runner-up; pair it with "
      "untargeted_ce's top_k",
      config::at_least(1));
    v("guide_top_k_weights", guide_top_k_weights,
      "how a guide's top_k classes count: equal, or clean (each by its clean probability, so that the map tells a sure image "
      "from a doubtful one); pair it with untargeted_ce's top_k_weights",
      config::one_of({"equal", "clean"}));
    v("guide_jpeg", guide_jpeg,
      "0, or a JPEG quality: the guide also gives each victim's gradient taken through a differentiable JPEG at that quality, as a "
      "second map, the direction of an attack that survives compression. Protecting then runs the guide's victims twice per pass "
      "(README, \"Guided generators\")",
      config::in_range(0, 100));
    v("guide_crops", guide_crops,
      "0: a detector guide's gradient is that of its own boxes overlapping the face. N > 0: that of N fixed square boxes around "
      "the face it finds in the clean image (0.85 to 1.3 times its size, shifted by up to 0.2 of it), scored by its score_boxes "
      "(MTCNN: O-Net), as detection_suppress's crops; with no box selection in it, such a guide may take several passes (guide_steps)",
      config::at_least(0));
  }
};

}  // namespace mf::networks
