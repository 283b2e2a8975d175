// The evaluation spec (`maskforge eval SPEC.yaml`): which images, which protections, which
// victims (any, not only those a protection was trained against), which countermeasures,
// and optionally an adaptive attacker. Read and checked like a training config.
#pragma once

#include "core/run_config.h"
#include "data/data_config.h"
#include "networks/victim_config.h"
#include "protect/method.h"

#include <filesystem>
#include <string>
#include <vector>

namespace mf::eval {

struct CountermeasureConfig;
// A countermeasure: what a platform or an attacker does to an image before a model sees it.
// Images in and out are [N, 3, H, W] in [0, 1] with 8-bit values; `seed` drives random ones.
using CountermeasureFn = std::function<at::Tensor(const at::Tensor& images, const CountermeasureConfig& config, uint64_t seed)>;
const Registry<CountermeasureFn>& countermeasures();

struct CountermeasureConfig {
  std::string name;
  std::string kind = "none";
  config::Options options;

  template <class V>
  void visit(V& v) {
    v("name", name, "the countermeasure's name in reports (default: kind and options, e.g. jpeg75)");
    v.kind("kind", kind, options, countermeasures(), "what is done to the protected image before the victims see it");
  }
};

// An attacker who knows the protection: fine-tunes a copy of each named classifier on
// protected training images with their true labels, then meets the protected test images.
struct AdaptiveConfig {
  std::vector<std::string> victims;
  std::vector<std::string> protections;
  data::DataConfig images;
  int64_t steps = 0;
  double lr = 1e-4;

  template <class V>
  void visit(V& v) {
    v("victims", victims, "classifier victims to fine-tune (names from `victims`)");
    v("protections", protections, "protections to adapt to (names); empty: every protection but `none` methods");
    v("images", images, "labelled training images the attacker protects and fine-tunes on (not the evaluation images)");
    v("steps", steps, "fine-tuning steps (batches of images.batch_size); 0 turns the attacker off", config::non_negative());
    v("lr", lr, "Adam learning rate of the fine-tuning", config::positive());
  }
};

struct ReportConfig {
  int64_t samples = 4;
  std::vector<std::string> runs;

  template <class V>
  void visit(V& v) {
    v("samples", samples, "images per protection in the report's grids", config::in_range(1, 64));
    v("runs", runs, "training run folders whose curves (metrics.jsonl) the report shows");
  }
};

struct EvalConfig {
  static constexpr int64_t kFormatVersion = 1;

  int64_t version = kFormatVersion;
  RunConfig run;
  data::DataConfig images;
  int64_t max_images = 0;
  std::vector<networks::VictimConfig> victims;
  std::vector<protect::MethodConfig> protections;
  std::vector<CountermeasureConfig> countermeasures;
  AdaptiveConfig adaptive;
  std::string lpips;
  double detector_threshold = 0.5;
  std::string impersonation_target;
  ReportConfig report;

  template <class V>
  void visit(V& v) {
    v("version", version, "spec format version; this build reads 1", config::in_range(1, 1));
    v("run", run, "the run folder (out_dir/name) the results go to, the device and the seed");
    v("images", images, "the evaluation images: any dataset (its training split when it has one; augmentation is off)");
    v("max_images", max_images, "evaluate N images spread evenly over the set (every class of a sorted folder); 0: all", config::non_negative());
    v("victims", victims, "the models that look at the protected images");
    v("protections", protections, "the protections compared (each a method with its options)");
    v("countermeasures", countermeasures, "what happens to protected images before the victims see them; default: [none]");
    v("adaptive", adaptive, "an attacker who fine-tunes classifier victims on protected images");
    v("lpips", lpips, "a TorchScript LPIPS network, forward(a, b) -> distance per image, images in [0, 1]; empty: no LPIPS");
    v("detector_threshold", detector_threshold, "a detector's box counts as a detection above this score", config::fraction());
    v("impersonation_target", impersonation_target, "embedders: the identity (or label) impersonation aims at; empty: not measured");
    v("report", report, "what report.html shows");
  }

  // Names unique and known (protections and countermeasures by their effective names).
  void validate() const;
};

// A countermeasure's name: its own, or its kind with its main option (jpeg75, resize0.5).
std::string default_name(const CountermeasureConfig& config);
std::string name_of(const CountermeasureConfig& config);
// A protection's name: its own, or its method's.
std::string name_of(const protect::MethodConfig& config);

// Reads SPEC plus --set overrides; fills run.name from the file name when empty, and the
// protections' and countermeasures' names from their kinds.
EvalConfig load_eval_config(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});

// The Markdown reference of the spec (docs/eval.md).
std::string eval_schema_markdown();

}  // namespace mf::eval
