// The `spam` trainer: a generator G over the dataset, trained so that x + G(x) fools the
// victim ensemble under the configured losses while staying close to x.
#include "core/log.h"
#include "networks/generator.h"
#include "networks/guide.h"
#include "trainers/perturbation_trainer.h"
#include "trainers/trainer_kinds.h"

namespace mf::trainers {
namespace {

class GeneratorSource final : public PerturbationSource {
 public:
  GeneratorSource(const networks::GeneratorConfig& config, const networks::VictimEnsemble& victims)
      : generator_(networks::build_generator(config)), guide_(networks::make_guide(config, victims)) {
    log::info("generator {}: {:.3f} M parameters, {:.2f} GMAC per megapixel{}", generator_->arch(),
              static_cast<double>(generator_->parameter_count()) / 1e6, generator_->macs_per_megapixel() / 1e9,
              guide_ ? fmt::format(", guided by the input gradient of {}{}{}{}", fmt::join(config.guide, ", "),
                                   config.guide_steps > 1 ? fmt::format(" in {} passes", config.guide_steps) : "",
                                   config.guide_jpeg > 0 ? fmt::format(", also through JPEG {:g}", config.guide_jpeg) : "",
                                   config.guide_crops > 0 ? fmt::format(", a detector's on {} boxes around the face", config.guide_crops) : "")
                     : "");
  }

  std::string name() const override { return protection::kGeneratorModule; }
  torch::nn::Module& module() override { return *generator_; }
  at::Tensor perturb(const at::Tensor& images, const losses::EpsSchedule& eps, int64_t step) override {
    return generator_->forward(images, eps.budget(images, step), guide_.get());
  }

 private:
  std::shared_ptr<networks::Generator> generator_;
  std::shared_ptr<networks::Guide> guide_;  // generator.guide
};

}  // namespace

std::unique_ptr<Trainer> make_spam_trainer(const Config& config, std::shared_ptr<dist::Context> dist) {
  return make_perturbation_trainer(config, std::move(dist), [&](const networks::VictimEnsemble& victims) { return std::make_unique<GeneratorSource>(config.generator, victims); });
}

}  // namespace mf::trainers
