#include "eval/evaluation.h"

#include "core/device.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "data/builders.h"
#include "data/loader.h"
#include "data/random.h"
#include "eval/adaptive.h"
#include "eval/quality.h"
#include "networks/ensemble.h"

#include <ATen/ATen.h>

#include <chrono>

namespace mf::eval {

const Cell* EvalResult::cell(const std::string& p, const std::string& c, const std::string& v) const {
  for (const auto& x : cells) {
    if (x.protection == p && x.countermeasure == c && x.victim == v) return &x;
  }
  return nullptr;
}

namespace {

struct ProbedVictim {
  VictimResult info;
  std::unique_ptr<Probe> probe;
};

at::Tensor eight_bit(const at::Tensor& x) { return (x.clamp(0, 1) * 255).round() / 255; }

}  // namespace

EvalResult evaluate(const EvalConfig& config) {
  const auto device = select_device(config.run.device);
  const uint64_t seed = static_cast<uint64_t>(config.run.seed);
  // Every image is evaluated: no validation split, no augmentation.
  data::DataConfig images_config = config.images;
  images_config.val_fraction = 0;
  std::shared_ptr<const data::Dataset> images = data::build_datasets(images_config, seed).train;
  if (config.max_images > 0 && config.max_images < images->size()) {
    images = std::make_shared<data::Subset>(images, data::evenly_spaced_indices(images->size(), config.max_images));
  }
  auto loader_options = data::loader_options(images_config, false, seed);
  auto new_loader = [&] { return std::make_unique<data::Loader>(images, loader_options); };

  networks::VictimEnsemble ensemble(config.victims, device);
  const ProbeOptions probe_options{!images->class_names().empty(), config.detector_threshold, config.impersonation_target};
  std::vector<ProbedVictim> victims;
  for (const auto& v : ensemble.victims()) {
    auto probe = make_probe(v, probe_options);
    auto [headline, lower] = probe->headline();
    victims.push_back({{v->name(), v->config().kind, headline, lower, false}, std::move(probe)});
  }
  std::vector<std::unique_ptr<protect::Method>> methods;
  for (const auto& p : config.protections) {
    methods.push_back(protect::build_method(p, {device, seed}));
    log::info("protection '{}': {}", p.name, methods.back()->describe());
  }

  // Adaptive attackers: one fine-tuned copy per (victim, protection), measured on that
  // protection only.
  std::map<std::string, std::vector<ProbedVictim>> adapted;
  if (config.adaptive.steps > 0) {
    for (size_t i = 0; i < config.protections.size(); ++i) {
      const auto& p = config.protections[i];
      const auto& only = config.adaptive.protections;
      if (only.empty() ? p.method == "none" : std::find(only.begin(), only.end(), p.name) == only.end()) continue;
      for (const auto& name : config.adaptive.victims) {
        log::info("adaptive attacker: fine-tuning '{}' on images protected by '{}' ({} steps)", name, p.name, config.adaptive.steps);
        auto v = adapt(ensemble.at(name)->config(), *methods[i], config.adaptive, device, seed);
        auto probe = make_probe(v, probe_options);
        auto [headline, lower] = probe->headline();
        adapted[p.name].push_back({{v->name(), v->config().kind, headline, lower, true}, std::move(probe)});
      }
    }
  }

  auto source_ids = [&](const data::Batch& b) {
    std::vector<std::string> ids;
    for (int64_t i : b.indices) ids.push_back(images->source(i));
    return ids;
  };
  if (std::any_of(victims.begin(), victims.end(), [](const ProbedVictim& v) { return v.probe->needs_gallery(); })) {
    at::NoGradGuard no_grad;
    auto loader = new_loader();
    for (int64_t i = 0; i < loader->batches_per_epoch(); ++i) {
      data::Batch b = loader->next().to(device);
      for (auto& v : victims) {
        if (v.probe->needs_gallery()) v.probe->add_to_gallery(b);
      }
    }
  }

  const size_t np = config.protections.size(), nc = config.countermeasures.size();
  std::vector<Tally> quality(np);
  std::vector<double> seconds(np, 0), megapixels(np, 0);
  std::map<std::tuple<size_t, size_t, std::string>, Tally> tallies;
  QualityMeter meter(config.lpips, device);
  EvalResult result;
  auto loader = new_loader();
  const int64_t batches = loader->batches_per_epoch();
  const int64_t samples_per_batch = (config.report.samples + batches - 1) / std::max<int64_t>(batches, 1);
  Progress progress("batch", batches);
  for (int64_t bi = 0; bi < batches; ++bi) {
    const data::Batch clean = loader->next().to(device);
    const auto ids = source_ids(clean);
    result.images += clean.images.size(0);
    {
      at::NoGradGuard no_grad;
      for (auto& v : victims) v.probe->reference(clean);
      for (auto& [p, list] : adapted) {
        for (auto& v : list) v.probe->reference(clean);
      }
    }
    // The report's samples come from every batch (image folders are sorted by class).
    const int64_t taken = result.samples.original.defined() ? result.samples.original.size(0) : 0;
    const int64_t keep = std::min({samples_per_batch, config.report.samples - taken, clean.images.size(0)});
    const bool sample = keep > 0;
    auto add_sample = [&](at::Tensor& into, const at::Tensor& batch) {
      at::Tensor rows = batch.slice(0, 0, keep).to(at::kCPU);
      into = into.defined() ? at::cat({into, rows}) : rows;
    };
    if (sample) add_sample(result.samples.original, clean.images);
    for (size_t pi = 0; pi < np; ++pi) {
      const std::string& pname = config.protections[pi].name;
      const auto t0 = std::chrono::steady_clock::now();
      const at::Tensor y = eight_bit(methods[pi]->protect(clean.images, ids).detach());  // PGD needs gradients: no NoGradGuard here
      seconds[pi] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      megapixels[pi] += static_cast<double>(y.size(0) * y.size(2) * y.size(3)) / 1e6;
      at::NoGradGuard no_grad;
      meter.add(y, clean.images, quality[pi]);
      if (sample) add_sample(result.samples.protected_images[pname], y);
      for (size_t ci = 0; ci < nc; ++ci) {
        const auto& c = config.countermeasures[ci];
        const at::Tensor seen = countermeasures().at(c.kind).build(y, c, data::mix(seed, static_cast<uint64_t>(bi), ci));
        if (sample) add_sample(result.samples.after_countermeasure[{pname, c.name}], seen);
        for (auto& v : victims) v.probe->measure(seen, clean, tallies[{pi, ci, v.info.name}]);
        if (auto it = adapted.find(pname); it != adapted.end()) {
          for (auto& v : it->second) v.probe->measure(seen, clean, tallies[{pi, ci, v.info.name}]);
        }
      }
    }
    progress.update(bi + 1, {{"images", static_cast<double>(result.images)}});
  }
  progress.finish();

  for (size_t pi = 0; pi < np; ++pi) {
    const auto& p = config.protections[pi];
    result.protections.push_back({p.name, p.method, methods[pi]->describe(), quality[pi].means(), 1000 * seconds[pi] / std::max<double>(1, static_cast<double>(result.images)),
                                  megapixels[pi] / std::max(seconds[pi], 1e-9)});
  }
  for (const auto& c : config.countermeasures) result.countermeasures.push_back(c.name);
  for (const auto& v : victims) result.victims.push_back(v.info);
  for (const auto& [p, list] : adapted) {
    for (const auto& v : list) {
      const bool listed = std::any_of(result.victims.begin(), result.victims.end(), [&](const VictimResult& r) { return r.name == v.info.name; });
      if (!listed) result.victims.push_back(v.info);
    }
  }
  for (const auto& [key, tally] : tallies) {
    const auto& [pi, ci, victim] = key;
    result.cells.push_back({config.protections[pi].name, config.countermeasures[ci].name, victim, tally.means()});
  }
  return result;
}

}  // namespace mf::eval
