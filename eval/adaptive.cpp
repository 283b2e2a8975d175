#include "eval/adaptive.h"

#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "data/builders.h"
#include "data/loader.h"

#include <ATen/ATen.h>
#include <torch/optim/adam.h>

namespace mf::eval {

std::shared_ptr<networks::Victim> adapt(const networks::VictimConfig& config, protect::Method& method, const AdaptiveConfig& adaptive,
                                        const c10::Device& device, uint64_t seed) {
  networks::VictimConfig copy = networks::resolve_victim(config);
  copy.name = config.name + "+adapted";
  auto victim = networks::build_victim(copy, device);
  torch::optim::Adam adam(victim->unfreeze(), torch::optim::AdamOptions(adaptive.lr));
  auto images = data::build_datasets(adaptive.images, seed).train;
  if (images->class_names().empty()) fail_input("adaptive.images: the attacker fine-tunes on true labels; the dataset has none (labels: folder?)");
  data::Loader loader(images, data::loader_options(adaptive.images, true, seed));
  Progress progress("step", adaptive.steps);
  double loss_sum = 0;
  for (int64_t step = 0; step < adaptive.steps; ++step) {
    data::Batch b = loader.next().to(device);
    std::vector<std::string> ids;
    for (int64_t i : b.indices) ids.push_back(images->source(i));
    // Not under NoGradGuard: per-image PGD needs gradients to protect.
    const at::Tensor seen = (method.protect(b.images, ids).detach() * 255).round() / 255;
    at::Tensor loss = at::cross_entropy_loss(victim->forward(seen), b.labels);
    adam.zero_grad();
    loss.backward();
    adam.step();
    loss_sum += loss.item<double>();
    if ((step + 1) % 10 == 0 || step + 1 == adaptive.steps) {
      progress.update(step + 1, {{"loss", loss_sum / static_cast<double>(step % 10 + 1)}});
      loss_sum = 0;
    }
  }
  progress.finish();
  victim->freeze();
  return victim;
}

}  // namespace mf::eval
