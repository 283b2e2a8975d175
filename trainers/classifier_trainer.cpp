// The `classifier` trainer: supervised training of a built-in surrogate victim on a
// labelled dataset, so users, the quickstart and the tests can make a real victim without
// any download. The final weights go to <run>/export/model.pt, which a `builtin` victim's
// `checkpoint` can name (or the run folder itself).
#include "checkpoints/files.h"
#include "checkpoints/tensors.h"
#include "core/error.h"
#include "core/precision.h"
#include "networks/builtin.h"
#include "trainers/fused_adamw.h"
#include "trainers/trainer.h"
#include "trainers/trainer_kinds.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

namespace mf::trainers {
namespace {

class ClassifierTrainer final : public Trainer {
 public:
  ClassifierTrainer(const Config& config, std::shared_ptr<dist::Context> dist)
      : Trainer(config, std::move(dist)),
        classes_(static_cast<int64_t>(data_.train->class_names().size())),
        net_(networks::make_builtin(config.trainer.options.as<protection::ClassifierOptions>().arch, classes_, classes_)),
        optimizer_(std::vector<at::Tensor>{}, adamw_options(config.trainer)) {
    if (classes_ < 2) fail_input("trainer.kind classifier needs a labelled dataset with at least 2 classes; '{}' has {}", config.data.dataset, classes_);
    net_->to(device_);
    optimizer_.add_param_group(torch::optim::OptimizerParamGroup(net_->parameters()));
  }

 protected:
  StepMetrics run_step() override {
    net_->train();
    apply_learning_rate(optimizer_);
    optimizer_.zero_grad();
    const auto& t = config_.trainer;
    StepMetrics m = accumulate([&](int64_t) {
      data::Batch b = next_batch();
      at::Tensor logits;
      {
        Autocast autocast(device_, t.precision);
        logits = net_->forward(b.images);
      }
      at::Tensor loss = at::cross_entropy_loss(logits.to(at::kFloat), b.labels);
      (loss / static_cast<double>(t.grad_accum)).backward();
      return StepMetrics{{"loss/total", loss.detach()}, {"accuracy", logits.argmax(1).eq(b.labels).to(at::kFloat).mean()}};
    });
    if (t.grad_clip > 0) m["grad/norm"] = clip_gradients(net_->parameters(), t.grad_clip);
    optimizer_.step();
    return m;
  }

  Metrics validate() override {
    Metrics m;
    if (!data_.val) return m;
    net_->eval();
    data::Loader loader(data_.val, data::loader_options(config_.data, false, 0));
    at::NoGradGuard no_grad;
    int64_t correct = 0, total = 0;
    double loss = 0;
    for (int64_t i = 0; i < loader.batches_per_epoch(); ++i) {
      data::Batch b = loader.next().to(device_);
      at::Tensor logits = net_->forward(b.images);
      loss += at::cross_entropy_loss(logits, b.labels, {}, at::Reduction::Sum).item<double>();
      correct += logits.argmax(1).eq(b.labels).sum().item<int64_t>();
      total += b.images.size(0);
    }
    m["accuracy"] = static_cast<double>(correct) / static_cast<double>(total);
    m["loss/total"] = loss / static_cast<double>(total);
    return m;
  }

  std::vector<std::pair<std::string, torch::nn::Module*>> modules() override { return {{"model", net_.get()}}; }
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override { return {{"optimizer", &optimizer_}}; }

  void finish(const Metrics& v) override {
    fs::create_directories(run_dir_ / "export");
    checkpoints::save_module(*net_, run_dir_ / "export" / "model.pt");
    checkpoints::write_file_atomic(run_dir_ / "export" / "classes.json", nlohmann::json(data_.train->class_names()).dump() + "\n");
    if (v.count("val/accuracy")) add_summary("validation accuracy", fmt::format("{:.1f} %", 100 * v.at("val/accuracy")));
    add_summary("weights", (run_dir_ / "export" / "model.pt").string());
  }

 private:
  int64_t classes_;
  std::shared_ptr<networks::TinyNet> net_;
  FusedAdamW optimizer_;
};

}  // namespace

std::unique_ptr<Trainer> make_classifier_trainer(const Config& config, std::shared_ptr<dist::Context> dist) {
  return std::make_unique<ClassifierTrainer>(config, std::move(dist));
}

}  // namespace mf::trainers
