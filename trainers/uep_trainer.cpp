// The `uep` trainer: one universal perturbation (channels x H x W at a configured
// resolution, resized to each image) shared by every image, projected back into the eps
// ball after each step.
#include "core/error.h"
#include "trainers/perturbation_trainer.h"
#include "trainers/trainer_kinds.h"

namespace mf::trainers {
namespace {

class UniversalSource final : public PerturbationSource {
 public:
  explicit UniversalSource(const std::vector<int64_t>& size) : uep_(std::make_shared<protection::UniversalPerturbation>(size)) {}

  std::string name() const override { return protection::kUniversalModule; }
  torch::nn::Module& module() override { return *uep_; }
  at::Tensor perturb(const at::Tensor& images, const losses::EpsSchedule&, int64_t) override { return uep_->forward(images); }
  void after_step(double eps) override { uep_->project(eps); }

 private:
  std::shared_ptr<protection::UniversalPerturbation> uep_;
};

}  // namespace

std::unique_ptr<Trainer> make_uep_trainer(const Config& config, std::shared_ptr<dist::Context> dist) {
  if (config.eps.scaling != "none") fail_input("eps.scaling: {} needs a generator; a universal perturbation is one tensor for every image", config.eps.scaling);
  return make_perturbation_trainer(config, std::move(dist), [&](const networks::VictimEnsemble&) { return std::make_unique<UniversalSource>(config.trainer.options.as<protection::UepOptions>().size); });
}

}  // namespace mf::trainers
