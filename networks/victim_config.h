// One element of the `victims` list: a frozen model the protection is trained against.
#pragma once

#include "core/config/config.h"

#include <ATen/core/Tensor.h>

#include <optional>

#include <string>
#include <vector>

namespace mf::networks {

class VictimNetwork;
struct VictimConfig;
// Loads a victim's network from where its `source` says.
using VictimSource = std::function<std::unique_ptr<VictimNetwork>(const VictimConfig&)>;
// Why an output of `batch` images does not fit the kind (e.g. "logits [N, C]"), or nothing.
using OutputCheck = std::function<std::optional<std::string>(const at::Tensor& output, int64_t batch)>;

// Where a victim's network comes from (networks/victims.cpp).
const Registry<VictimSource>& victim_sources();
// What a victim's output means; each kind's options sit beside `kind`.
const Registry<OutputCheck>& victim_kinds();

struct TorchscriptSourceOptions {
  std::string path;
  std::string output;

  template <class V>
  void visit(V& v) {
    v("path", path, "TorchScript file (tools/export_victim.py writes them)");
    v("output", output, "which output to use when the model returns a tuple (an index) or a dict (a key); empty: the output itself");
  }
};

struct BuiltinSourceOptions {
  std::string arch = "tiny_cnn";
  std::string checkpoint;
  int64_t classes = 10;
  int64_t dim = 64;

  template <class V>
  void visit(V& v) {
    v("arch", arch, "built-in architecture: tiny_cnn (classifier) or tiny_embedder (embedder)", config::one_of({"tiny_cnn", "tiny_embedder"}));
    v("checkpoint", checkpoint, "trained weights: a run folder or checkpoint of `trainer.kind: classifier`; empty: random weights");
    v("classes", classes, "classes of a tiny_cnn", config::at_least(2));
    v("dim", dim, "embedding size of a tiny_embedder", config::at_least(2));
  }
};

struct MllmKindOptions {
  std::string tokens;

  template <class V>
  void visit(V& v) {
    v("tokens", tokens, "JSON of prompt and refusal-target token ids (tools/tokenize_refusal.py)");
  }
};

struct VictimConfig {
  std::string name;
  std::string kind = "classifier";
  config::Options kind_options;
  std::string source = "builtin";
  config::Options source_options;
  std::vector<int64_t> input_size;
  std::vector<double> mean;
  std::vector<double> std;
  double weight = 1.0;

  template <class V>
  void visit(V& v) {
    v("name", name, "name used in logs, metrics and losses' `victims` lists");
    v.kind("kind", kind, kind_options, victim_kinds(), "what the output means");
    v.kind("source", source, source_options, victim_sources(), "where the network comes from");
    v("input_size", input_size, "[height, width] the network takes; images are resized (antialiased) to it. Empty: from the TorchScript file's sidecar JSON, else [32, 32]");
    v("mean", mean, "per-channel mean subtracted after resizing (RGB, [0,1] pixel units). Empty: from the sidecar, else [0, 0, 0]");
    v("std", std, "per-channel standard deviation divided after subtracting the mean. Empty: from the sidecar, else [1, 1, 1]");
    v("weight", weight, "weight of this victim's loss terms in the ensemble", config::non_negative());
  }

  void validate() const;
};

// `config` with empty input_size, mean and std filled from the TorchScript file's sidecar
// JSON (written by tools/export_victim.py next to it) or the defaults; a sidecar whose kind
// differs from the config's is an InputError.
VictimConfig resolve_victim(VictimConfig config);

}  // namespace mf::networks
