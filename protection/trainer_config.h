// The `trainer` section: which trainer runs and the optimisation schedule.
#pragma once

#include "core/config/config.h"

#include <string>
#include <variant>

namespace mf::protection {

// The trainer kinds a config may name, with their docs and options. Declared here, beside
// the config; trainers/trainers.cpp builds each (build_trainer).
const Registry<std::monostate>& trainer_kinds();

struct UepOptions {
  std::vector<int64_t> size = {224, 224};

  template <class V>
  void visit(V& v) {
    v("size", size, "[height, width] of the universal perturbation; resized to each image");
  }
};

struct PgdOptions {
  int64_t iterations = 50;
  double step_size = 1.0 / 255;
  double momentum = 1.0;
  std::string norm = "linf";

  template <class V>
  void visit(V& v) {
    v("iterations", iterations, "optimisation steps per image", config::at_least(1));
    v("step_size", step_size, "step length in pixel units (e.g. 1/255)", config::positive());
    v("momentum", momentum, "decay of the accumulated gradient (MI-FGSM); 0 is plain PGD", config::non_negative());
    v("norm", norm, "the perturbation ball", config::one_of({"linf", "l2"}));
  }
};

struct ClassifierOptions {
  std::string arch = "tiny_cnn";

  template <class V>
  void visit(V& v) {
    v("arch", arch, "built-in architecture of the surrogate victim", config::one_of({"tiny_cnn", "tiny_embedder"}));
  }
};

struct TrainerConfig {
  std::string kind = "spam";
  config::Options options;
  int64_t steps = 1000;
  double lr = 1e-3;
  double lr_floor = 0.0;
  std::vector<double> betas = {0.9, 0.999};
  double weight_decay = 0.0;
  int64_t warmup_steps = 0;
  double grad_clip = 0.0;
  int64_t grad_accum = 1;
  std::string precision = "auto";
  bool channels_last = true;
  bool cudnn_benchmark = true;
  bool cuda_graphs = false;
  std::string combine = "sum";
  bool balance_victims = false;
  int64_t log_every = 10;
  int64_t sample_every = 200;
  int64_t val_every = 200;
  int64_t val_batches = 8;
  int64_t checkpoint_every = 500;
  double checkpoint_minutes = 0.0;
  int64_t keep_last = 3;
  int64_t milestone_every = 0;

  template <class V>
  void visit(V& v) {
    v.kind("kind", kind, options, trainer_kinds(), "what is trained");
    v("steps", steps, "optimizer steps", config::at_least(1));
    v("lr", lr, "peak learning rate (AdamW)", config::positive());
    v("lr_floor", lr_floor, "where the cosine decay ends, as a fraction of lr: 0 decays to zero, 1 keeps lr constant", config::fraction());
    v("betas", betas, "AdamW's beta1 and beta2 (decay of the gradient's first and second moments)", config::in_range(0, 0.9999));
    v("weight_decay", weight_decay, "AdamW weight decay", config::non_negative());
    v("warmup_steps", warmup_steps, "linear warm-up steps before the cosine decay", config::non_negative());
    v("grad_clip", grad_clip, "clip the global gradient norm to this; 0 turns clipping off", config::non_negative());
    v("grad_accum", grad_accum, "micro-batches accumulated per optimizer step", config::at_least(1));
    v("precision", precision, "auto (bf16 autocast on CUDA, fp32 on CPU), fp32 or bf16", config::one_of({"auto", "fp32", "bf16"}));
    v("channels_last", channels_last,
      "channels-last (NHWC) memory for the trained module's convolution weights and the training images, which the victims "
      "then see in the same layout: faster convolutions on CPUs (oneDNN) and GPU tensor cores; the same computation, up to rounding");
    v("cudnn_benchmark", cudnn_benchmark,
      "on CUDA, let cuDNN time its convolution algorithms for each new shape and keep the fastest (the step's shapes are fixed); "
      "off: its heuristic choice");
    v("cuda_graphs", cuda_graphs,
      "spam and uep on one CUDA device: after 3 eager steps, capture the step's forward and backward as a CUDA graph and replay it "
      "(no launch cost per kernel); the step must be fixed: constant eps, no robustness, no detector or MLLM victims, no pcgrad, "
      "grad_accum 1, one rank");
    v("combine", combine, "how the adversarial and quality gradients combine: their sum, or pcgrad (project away the conflicting part of each)",
      config::one_of({"sum", "pcgrad"}));
    v("balance_victims", balance_victims,
      "spam, uep and pgd: rescale each victim's gradient at the protected image, per image, to the mean over the victims before they "
      "add up, so that a victim whose gradients are small (another family, a robust network) counts as much as the others");
    v("log_every", log_every, "steps between metric lines", config::at_least(1));
    v("sample_every", sample_every, "steps between sample grids; 0 only at the end", config::non_negative());
    v("val_every", val_every, "steps between validations; 0 only at the end", config::non_negative());
    v("val_batches", val_batches, "validation batches per validation", config::at_least(1));
    v("checkpoint_every", checkpoint_every, "steps between checkpoints; 0 only at the end", config::non_negative());
    v("checkpoint_minutes", checkpoint_minutes, "also checkpoint when this many minutes passed since the last; 0 turns it off", config::non_negative());
    v("keep_last", keep_last, "committed checkpoints kept (milestones are kept too)", config::at_least(2));
    v("milestone_every", milestone_every, "steps between milestone checkpoints, never pruned; 0: none", config::non_negative());
  }
  void validate() const {
    if (betas.size() != 2) throw config::FieldError("betas", fmt::format("expected [beta1, beta2], got {} values", betas.size()));
  }
};

}  // namespace mf::protection
