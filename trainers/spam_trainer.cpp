// The `spam` trainer: a generator G over the dataset, trained so that x + G(x) fools the
// victim ensemble under the configured losses while staying close to x.
#include "core/log.h"
#include "networks/generator.h"
#include "trainers/perturbation_trainer.h"
#include "trainers/trainer_kinds.h"

namespace mf::trainers {
namespace {

class GeneratorSource final : public PerturbationSource {
 public:
  explicit GeneratorSource(const networks::GeneratorConfig& config) : generator_(networks::build_generator(config)) {
    log::info("generator {}: {:.3f} M parameters, {:.2f} GMAC per megapixel", generator_->arch(),
              static_cast<double>(generator_->parameter_count()) / 1e6, generator_->macs_per_megapixel() / 1e9);
  }

  std::string name() const override { return protection::kGeneratorModule; }
  torch::nn::Module& module() override { return *generator_; }
  at::Tensor perturb(const at::Tensor& images, const losses::EpsSchedule& eps, int64_t step) override {
    return generator_->forward(images, eps.budget(images, step));
  }

 private:
  std::shared_ptr<networks::Generator> generator_;
};

}  // namespace

std::unique_ptr<Trainer> make_spam_trainer(const Config& config, std::shared_ptr<dist::Context> dist) {
  return make_perturbation_trainer(config, std::move(dist), [&] { return std::make_unique<GeneratorSource>(config.generator); });
}

}  // namespace mf::trainers
