#include "export/export_run.h"

#include "checkpoints/manager.h"
#include "checkpoints/tensors.h"
#include "core/error.h"
#include "data/image_io.h"
#include "export/twin.h"
#include "trainers/config.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace mf::exporting {

Exported export_run(const fs::path& run_or_checkpoint, const fs::path& out) {
  const auto checkpoint = checkpoints::resolve_checkpoint(run_or_checkpoint);
  const auto config = trainers::load_config(checkpoint.dir / "config.yaml");
  std::ifstream state_file(checkpoint.dir / "state.json");
  const auto state = nlohmann::json::parse(state_file);
  losses::EpsSchedule schedule(config.eps);
  schedule.set_controlled(state.at("train_state").at("eps").get<double>());
  const int64_t step = state.at("train_state").at("step").get<int64_t>();
  ExportInfo info{config.run.name, state.at("config_sha256").get<std::string>(), schedule.value(step), config.eps};
  Exported result{out, {}, config.trainer.kind, info.eps, step};
  torch::NoGradGuard no_grad;
  if (config.trainer.kind == "spam") {
    auto generator = networks::build_generator(config.generator);
    checkpoints::load_module(*generator, checkpoint.dir / "generator.pt", "generator");
    generator->eval();
    auto twin = generator_twin(*generator, info);
    save_checked(twin, [&](const at::Tensor& x) { return generator->forward(x, schedule.budget(x, step)); }, out);
    result.kind = "generator";
  } else if (config.trainer.kind == "uep") {
    trainers::UniversalPerturbation uep(config.trainer.options.as<trainers::UepOptions>().size);
    checkpoints::load_module(uep, checkpoint.dir / "perturbation.pt", "universal perturbation");
    auto twin = uep_twin(uep, info);
    save_checked(twin, [&](const at::Tensor& x) { return uep.forward(x); }, out);
    // The picture: the perturbation amplified to the full range, enlarged to be seen.
    at::Tensor picture = (uep.delta() / (2 * std::max(info.eps, 1e-6)) + 0.5).clamp(0, 1);
    const int64_t scale = std::max<int64_t>(1, 256 / std::min(picture.size(2), picture.size(3)));
    picture = at::upsample_nearest2d(picture, {picture.size(2) * scale, picture.size(3) * scale});
    result.picture = fs::path(out).replace_extension(".png");
    data::write_image(result.picture, picture[0]);
  } else {
    fail_input("a `{}` run has nothing to export{}", config.trainer.kind,
               config.trainer.kind == "classifier" ? " (its weights are in <run>/export/model.pt, for a builtin victim)" : "");
  }
  return result;
}

}  // namespace mf::exporting
