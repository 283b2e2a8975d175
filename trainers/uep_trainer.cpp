// The `uep` trainer: one universal perturbation (channels x H x W at a configured
// resolution, resized to each image) shared by every image, projected back into the eps
// ball after each step.
#include "core/precision.h"
#include "trainers/protection.h"
#include "trainers/trainer.h"
#include "trainers/trainer_kinds.h"
#include "trainers/universal_perturbation.h"

#include <ATen/ATen.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

namespace mf::trainers {
namespace {

class UepTrainer final : public Trainer {
 public:
  UepTrainer(const Config& config, std::shared_ptr<dist::Context> dist)
      : Trainer(config, std::move(dist)),
        protection_(config, device_),
        uep_(std::make_shared<UniversalPerturbation>(config.trainer.options.as<UepOptions>().size)),
        optimizer_(std::vector<at::Tensor>{}, torch::optim::AdamWOptions(config.trainer.lr).weight_decay(config.trainer.weight_decay)) {
    if (config.eps.scaling != "none") fail_input("eps.scaling: {} needs a generator; a universal perturbation is one tensor for every image", config.eps.scaling);
    uep_->to(device_);
    optimizer_.add_param_group(torch::optim::OptimizerParamGroup(uep_->parameters()));
    state_.eps = protection_.eps.controlled();
  }

 protected:
  Metrics run_step() override {
    protection_.eps.set_controlled(state_.eps);
    apply_learning_rate(optimizer_);
    optimizer_.zero_grad();
    const auto& t = config_.trainer;
    Metrics m = accumulate([&](int64_t micro) {
      data::Batch b = next_batch();
      losses::ObjectiveValue value;
      {
        Autocast autocast(device_, t.precision);
        value = protection_.evaluate(b, uep_->forward(b.images), step_seed(micro), true);
      }
      protection_.backward(value, uep_->parameters(), static_cast<double>(t.grad_accum), value.metrics);
      return value.metrics;
    });
    if (t.grad_clip > 0) m["grad/norm"] = torch::nn::utils::clip_grad_norm_(uep_->parameters(), t.grad_clip);
    optimizer_.step();
    const double eps = protection_.eps.value(state_.step);
    uep_->project(eps);
    m["eps"] = eps;
    protection_.eps.observe(m["loss/adversarial"], m["loss/quality"]);
    state_.eps = protection_.eps.controlled();
    return m;
  }

  Metrics validate() override {
    return protection_.validate(data_.val, config_.trainer.val_batches, static_cast<uint64_t>(config_.run.seed), [&](const data::Batch& b) {
      at::NoGradGuard no_grad;
      return uep_->forward(b.images);
    });
  }

  std::optional<SampleImages> samples() override {
    if (!data_.val) return std::nullopt;
    data::Loader loader(data_.val, data::loader_options(config_.data, false, 0));
    at::Tensor x = loader.next().to(device_).images.slice(0, 0, 8);
    at::NoGradGuard no_grad;
    return SampleImages{x, (x + uep_->forward(x)).clamp(0, 1), protection_.eps.value(state_.step)};
  }

  std::vector<std::pair<std::string, torch::nn::Module*>> modules() override { return {{"perturbation", uep_.get()}}; }
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override { return {{"optimizer", &optimizer_}}; }

  void finish(const Metrics& v) override {
    for (const auto& [name, value] : summary_rows(v)) add_summary(name, value);
  }

 private:
  Protection protection_;
  std::shared_ptr<UniversalPerturbation> uep_;
  torch::optim::AdamW optimizer_;
};

}  // namespace

std::unique_ptr<Trainer> make_uep_trainer(const Config& config, std::shared_ptr<dist::Context> dist) {
  return std::make_unique<UepTrainer>(config, std::move(dist));
}

}  // namespace mf::trainers
