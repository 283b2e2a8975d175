// Probes: what each kind of victim is asked about the images it sees, and how the answers
// add up over batches.
//
//   classifier  accuracy (against labels), fooling_rate (against its clean prediction)
//   embedder    cosine (to the clean embedding), identification (top-1 against a gallery of
//               the other clean images), impersonation (top-1 is the target identity)
//   detector    detection_rate (a box above the threshold with IoU >= 0.5 with the face:
//               the given face box, or the clean image's best detection)
//   mllm        refusal_rate (greedy decoding starts with a refusal target, over every
//               prompt), target_likelihood (per-token probability of the first target)
#pragma once

#include "data/loader.h"
#include "networks/victim.h"

#include <map>
#include <memory>
#include <string>
#include <utility>

namespace mf::eval {

using Metrics = std::map<std::string, double>;

// Sums and counts of metrics over batches; means() divides.
class Tally {
 public:
  void add(const std::string& metric, double sum, double count);
  Metrics means() const;

 private:
  std::map<std::string, std::pair<double, double>> sums_;
};

struct ProbeOptions {
  bool labelled = false;  // the images have class labels: a classifier's headline is its accuracy
  double detector_threshold = 0.5;
  std::string impersonation_target;
};

class Probe {
 public:
  virtual ~Probe() = default;
  // Called once per batch with the clean images, before any measure() of that batch.
  virtual void reference(const data::Batch& clean) = 0;
  // Adds to `tally` the metrics of `images`, the batch's clean images protected (and maybe
  // transformed by a countermeasure).
  virtual void measure(const at::Tensor& images, const data::Batch& clean, Tally& tally) = 0;
  // The metric the report leads with, and whether lower means better protected.
  virtual std::pair<std::string, bool> headline() const = 0;
  // Embedders: a pass over every clean image before the evaluation, for the gallery.
  virtual bool needs_gallery() const { return false; }
  virtual void add_to_gallery(const data::Batch& clean) {}
};

std::unique_ptr<Probe> make_probe(std::shared_ptr<networks::Victim> victim, const ProbeOptions& options);

}  // namespace mf::eval
