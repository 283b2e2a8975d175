// The `pgd` trainer: a baseline that learns nothing. Each step protects one batch with
// per-image PGD and reports the objective's metrics, so its numbers compare directly with
// a generator's or a universal perturbation's.
#include "protection/pgd.h"
#include "trainers/trainer.h"
#include "trainers/trainer_kinds.h"

#include <ATen/ATen.h>

namespace mf::trainers {
namespace {

class PgdTrainer final : public Trainer {
 public:
  PgdTrainer(const Config& config, std::shared_ptr<dist::Context> dist) : Trainer(config, std::move(dist)), protection_(config, device_), options_(config.trainer.options.as<protection::PgdOptions>()) {}

 protected:
  StepMetrics run_step() override {
    StepMetrics m;
    last_ = next_batch();
    last_delta_ = protection::pgd_protect(protection_, last_, protection_.eps.value(state_.step), options_, step_seed(), &m);
    m["eps"] = losses::host_metric(protection_.eps.value(state_.step));
    return average_over_ranks(m);
  }

  Metrics validate() override {
    return protection_.validate(data_.val, config_.trainer.val_batches, static_cast<uint64_t>(config_.run.seed),
                                [&](const data::Batch& b) { return protection::pgd_protect(protection_, b, protection_.eps.value(state_.step), options_, step_seed(1)); });
  }

  std::optional<SampleImages> samples() override {
    if (!last_delta_.defined()) return std::nullopt;
    at::Tensor x = last_.images.slice(0, 0, 8);
    return SampleImages{x, (x + last_delta_.slice(0, 0, 8)).clamp(0, 1), protection_.eps.value(state_.step)};
  }

  std::vector<std::pair<std::string, torch::nn::Module*>> modules() override { return {}; }
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override { return {}; }

  void finish(const Metrics& v) override {
    for (const auto& [name, value] : protection::summary_rows(v)) add_summary(name, value);
  }

 private:
  protection::Protection protection_;
  protection::PgdOptions options_;
  data::Batch last_;
  at::Tensor last_delta_;
};

}  // namespace

std::unique_ptr<Trainer> make_pgd_trainer(const Config& config, std::shared_ptr<dist::Context> dist) {
  return std::make_unique<PgdTrainer>(config, std::move(dist));
}

}  // namespace mf::trainers
