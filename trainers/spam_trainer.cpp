// The `spam` trainer: a generator G over the dataset, trained so that x + G(x) fools the
// victim ensemble under the configured losses while staying close to x.
#include "core/log.h"
#include "core/precision.h"
#include "networks/generator.h"
#include "trainers/protection.h"
#include "trainers/trainer.h"
#include "trainers/trainer_kinds.h"

#include <ATen/ATen.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

namespace mf::trainers {
namespace {

class SpamTrainer final : public Trainer {
 public:
  SpamTrainer(const Config& config, std::shared_ptr<dist::Context> dist)
      : Trainer(config, std::move(dist)),
        protection_(config, device_),
        generator_(networks::build_generator(config.generator)),
        optimizer_(std::vector<at::Tensor>{}, torch::optim::AdamWOptions(config.trainer.lr).weight_decay(config.trainer.weight_decay)) {
    generator_->to(device_);
    optimizer_.add_param_group(torch::optim::OptimizerParamGroup(generator_->parameters()));
    state_.eps = protection_.eps.controlled();
    log::info("generator {}: {:.3f} M parameters, {:.2f} GMAC per megapixel", generator_->arch(),
              static_cast<double>(generator_->parameter_count()) / 1e6, generator_->macs_per_megapixel() / 1e9);
    log::info("victims:\n{}", protection_.victims.summary());
  }

 protected:
  Metrics run_step() override {
    protection_.eps.set_controlled(state_.eps);
    generator_->train();
    apply_learning_rate(optimizer_);
    optimizer_.zero_grad();
    const auto& t = config_.trainer;
    Metrics m = accumulate([&](int64_t micro) {
      data::Batch b = next_batch();
      losses::ObjectiveValue value;
      {
        Autocast autocast(device_, t.precision);
        at::Tensor delta = generator_->forward(b.images, protection_.eps.budget(b.images, state_.step));
        value = protection_.evaluate(b, delta, step_seed(micro), true);
      }
      protection_.backward(value, generator_->parameters(), static_cast<double>(t.grad_accum), value.metrics);
      return value.metrics;
    });
    if (t.grad_clip > 0) m["grad/norm"] = torch::nn::utils::clip_grad_norm_(generator_->parameters(), t.grad_clip);
    optimizer_.step();
    m["eps"] = protection_.eps.value(state_.step);
    protection_.eps.observe(m["loss/adversarial"], m["loss/quality"]);
    state_.eps = protection_.eps.controlled();
    return m;
  }

  Metrics validate() override {
    generator_->eval();
    return protection_.validate(data_.val, config_.trainer.val_batches, static_cast<uint64_t>(config_.run.seed), [&](const data::Batch& b) {
      at::NoGradGuard no_grad;
      return generator_->forward(b.images, protection_.eps.budget(b.images, state_.step));
    });
  }

  std::optional<SampleImages> samples() override {
    if (!data_.val) return std::nullopt;
    generator_->eval();
    data::Loader loader(data_.val, data::loader_options(config_.data, false, 0));
    data::Batch b = loader.next().to(device_);
    at::Tensor x = b.images.slice(0, 0, 8);
    at::NoGradGuard no_grad;
    at::Tensor adv = (x + generator_->forward(x, protection_.eps.budget(x, state_.step))).clamp(0, 1);
    return SampleImages{x, adv, protection_.eps.value(state_.step) * (config_.eps.scaling == "texture" ? 2 : 1)};
  }

  std::vector<std::pair<std::string, torch::nn::Module*>> modules() override { return {{"generator", generator_.get()}}; }
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override { return {{"optimizer", &optimizer_}}; }

  void finish(const Metrics& v) override {
    for (const auto& [name, value] : summary_rows(v)) add_summary(name, value);
  }

 private:
  Protection protection_;
  std::shared_ptr<networks::Generator> generator_;
  torch::optim::AdamW optimizer_;
};

}  // namespace

std::unique_ptr<Trainer> make_spam_trainer(const Config& config, std::shared_ptr<dist::Context> dist) {
  return std::make_unique<SpamTrainer>(config, std::move(dist));
}

}  // namespace mf::trainers
