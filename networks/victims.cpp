#include "networks/victim_config.h"

namespace mf::networks {

const Registry<VictimBuilder>& victim_sources() {
  static const Registry<VictimBuilder> registry("victim source", {
      {"torchscript", "A TorchScript file loaded with torch::jit::load.", options_of<TorchscriptSourceOptions>(), {}},
      {"builtin", "A small architecture built in C++ (for demos and tests), optionally with trained weights.", options_of<BuiltinSourceOptions>(), {}},
  });
  return registry;
}

const Registry<std::function<void()>>& victim_kinds() {
  static const Registry<std::function<void()>> registry("victim kind", {
      {"classifier", "Returns logits [N, C].", options_of<config::NoOptions>(), {}},
      {"embedder", "Returns an embedding [N, D] (face recognition, CLIP image encoders).", options_of<config::NoOptions>(), {}},
      {"detector", "Returns box proposals with scores [N, B, 5] as (x0, y0, x1, y1, score) in input pixels.", options_of<config::NoOptions>(), {}},
      {"mllm", "forward(pixel_values, input_ids) returns token logits [N, T, V].", options_of<MllmKindOptions>(), {}},
  });
  return registry;
}

void VictimConfig::validate() const {
  if (name.empty()) throw config::FieldError("name", "every victim needs a name");
  if (input_size.size() != 2 || input_size[0] < 1 || input_size[1] < 1) {
    throw config::FieldError("input_size", "expected [height, width] with both at least 1");
  }
  if (mean.size() != 3) throw config::FieldError("mean", "expected 3 values (R, G, B)");
  if (std.size() != 3) throw config::FieldError("std", "expected 3 values (R, G, B)");
  for (double s : std) {
    if (s <= 0) throw config::FieldError("std", "every value must be > 0");
  }
  if (source == "torchscript" && source_options.as<TorchscriptSourceOptions>().path.empty()) {
    throw config::FieldError("path", "a torchscript victim needs `path`");
  }
  if (kind == "mllm" && kind_options.as<MllmKindOptions>().tokens.empty()) {
    throw config::FieldError("tokens", "an mllm victim needs `tokens` (tools/tokenize_refusal.py writes it)");
  }
}

}  // namespace mf::networks
