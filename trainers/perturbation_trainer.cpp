#include "trainers/perturbation_trainer.h"

#include "core/log.h"
#include "core/precision.h"
#include "networks/generator.h"
#include "protection/protection.h"
#include "trainers/captured_step.h"
#include "trainers/fused_adamw.h"

#include <ATen/ATen.h>

namespace mf::trainers {
namespace {

class PerturbationTrainer final : public Trainer {
 public:
  PerturbationTrainer(const Config& config, std::shared_ptr<dist::Context> dist, const SourceFactory& make_source)
      : Trainer(config, std::move(dist)),
        captured_(config.trainer.cuda_graphs ? captured_step(config) : nullptr),
        protection_(config, device_),
        source_(make_source(protection_.victims)),
        optimizer_(std::vector<at::Tensor>{}, adamw_options(config.trainer)) {
    source_->module().to(device_);
    if (config.trainer.channels_last) networks::to_channels_last(source_->module());
    optimizer_.add_param_group(torch::optim::OptimizerParamGroup(source_->module().parameters()));
    state_.eps = protection_.eps.control();
    log::info("victims:\n{}", protection_.victims.summary());
  }

 protected:
  StepMetrics run_step() override {
    protection_.eps.set_control(state_.eps);
    source_->module().train();
    apply_learning_rate(optimizer_);
    const auto& t = config_.trainer;
    const auto parameters = source_->module().parameters();
    auto forward_backward = [&](const data::Batch& b, int64_t micro) {
      losses::ObjectiveValue value;
      {
        Autocast autocast(device_, t.precision);
        value = protection_.evaluate(b, source_->perturb(b.images, protection_.eps, state_.step), step_seed(micro), true);
      }
      protection_.backward(value, parameters, static_cast<double>(t.grad_accum), value.metrics,
                           [&](std::vector<at::Tensor>& gradients) { average_over_ranks(gradients); });
      return value.metrics;
    };
    auto batch = [&] {
      data::Batch b = next_batch();
      if (state_.image_size.empty()) state_.image_size = {b.images.size(2), b.images.size(3)};
      return b;
    };
    StepMetrics m;
    if (captured_) {
      m = captured_->run(batch(), parameters, [&](const data::Batch& b) { return forward_backward(b, 0); });
    } else {
      optimizer_.zero_grad();
      m = accumulate([&](int64_t micro) { return forward_backward(batch(), micro); });
    }
    if (t.grad_clip > 0) m["grad/norm"] = clip_gradients(parameters, t.grad_clip);
    optimizer_.step();
    const double eps = protection_.eps.value(state_.step);
    source_->after_step(eps);
    m["eps"] = losses::host_metric(eps);
    // Ratio control reads the losses every step: the one schedule that waits for the device.
    if (protection_.eps.adapts()) protection_.eps.observe(m.at("loss/adversarial").item<double>(), m.at("loss/quality").item<double>());
    state_.eps = protection_.eps.control();
    return m;
  }

  Metrics validate() override {
    source_->module().eval();
    return protection_.validate(data_.val, config_.trainer.val_batches, static_cast<uint64_t>(config_.run.seed), [&](const data::Batch& b) {
      at::NoGradGuard no_grad;
      return source_->perturb(b.images, protection_.eps, state_.step);
    });
  }

  std::optional<SampleImages> samples() override {
    if (!data_.val) return std::nullopt;
    source_->module().eval();
    data::Loader loader(data_.val, data::loader_options(config_.data, false, 0));
    at::Tensor x = loader.next().to(device_).images.slice(0, 0, 8);
    at::NoGradGuard no_grad;
    at::Tensor protected_images = (x + source_->perturb(x, protection_.eps, state_.step)).clamp(0, 1);
    return SampleImages{x, protected_images, protection_.eps.bound(state_.step)};
  }

  std::vector<std::pair<std::string, torch::nn::Module*>> modules() override { return {{source_->name(), &source_->module()}}; }
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override { return {{"optimizer", &optimizer_}}; }

  void finish(const Metrics& v) override {
    for (const auto& [name, value] : protection::summary_rows(v)) add_summary(name, value);
  }

 private:
  // Checked before the victims load: a refused config fails at once.
  std::unique_ptr<CapturedStep> captured_step(const Config& config) const {
    check_capturable(config, device_, dist_->world_size());
    return std::make_unique<CapturedStep>();
  }

  std::unique_ptr<CapturedStep> captured_;  // trainer.cuda_graphs
  protection::Protection protection_;
  std::unique_ptr<PerturbationSource> source_;
  FusedAdamW optimizer_;
};

}  // namespace

std::unique_ptr<Trainer> make_perturbation_trainer(const Config& config, std::shared_ptr<dist::Context> dist, const SourceFactory& make_source) {
  return std::make_unique<PerturbationTrainer>(config, std::move(dist), make_source);
}

}  // namespace mf::trainers
