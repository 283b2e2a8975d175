// One element of the `victims` list: a frozen model the protection is trained against.
#pragma once

#include "core/config/config.h"

#include <string>
#include <vector>

namespace mf::networks {

class Victim;
struct VictimConfig;
using VictimBuilder = std::function<std::shared_ptr<Victim>(const VictimConfig&)>;

// Where a victim's network comes from (networks/victims.cpp).
const Registry<VictimBuilder>& victim_sources();
// What a victim's output means; each kind's options sit beside `kind`.
const Registry<std::function<void()>>& victim_kinds();

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
  std::vector<int64_t> input_size = {32, 32};
  std::vector<double> mean = {0.0, 0.0, 0.0};
  std::vector<double> std = {1.0, 1.0, 1.0};
  double weight = 1.0;

  template <class V>
  void visit(V& v) {
    v("name", name, "name used in logs, metrics and losses' `victims` lists");
    v.kind("kind", kind, kind_options, victim_kinds(), "what the output means");
    v.kind("source", source, source_options, victim_sources(), "where the network comes from");
    v("input_size", input_size, "[height, width] the network takes; images are resized (antialiased) to it");
    v("mean", mean, "per-channel mean subtracted after resizing (RGB, [0,1] pixel units)");
    v("std", std, "per-channel standard deviation divided after subtracting the mean");
    v("weight", weight, "weight of this victim's loss terms in the ensemble", config::non_negative());
  }

  void validate() const;
};

}  // namespace mf::networks
