#include "export/export_run.h"

#include "checkpoints/manager.h"
#include "data/image_io.h"
#include "export/twin.h"
#include "protection/checkpoint_content.h"

#include <ATen/ATen.h>

namespace mf::exporting {

Exported export_run(const fs::path& run_or_checkpoint, const fs::path& out) {
  const auto checkpoint = checkpoints::resolve_checkpoint(run_or_checkpoint);
  const auto trained = protection::load_trained_protection(checkpoint.dir);
  const auto& content = trained.content;
  ExportInfo info{content.config.run.name, content.config_sha256, trained.eps_value(), content.config.eps, content.state.image_size};
  Exported result{out, {}, trained.generator ? "generator" : "uep", info.eps, content.state.step};
  torch::NoGradGuard no_grad;
  auto reference = [&](const at::Tensor& x) { return trained.perturbation(x); };
  if (trained.generator) {
    auto twin = generator_twin(*trained.generator, info, trained.guide.get());
    // A guide through JPEG rounds DCT coefficients: a last-bit difference between the C++ and
    // TorchScript arithmetic of an earlier pass can move a coefficient across a rounding
    // boundary, a whole quantisation step, and the later passes follow (measured 6.5e-5 with
    // configs/spam_cifar_guided.yaml, 0.2 % of its 8/255). A wrong export differs by far more.
    save_checked(twin, reference, out, content.config.generator.guide_jpeg > 0 ? 5e-4 : 1e-5);
    return result;
  }
  auto twin = uep_twin(*trained.universal, info);
  save_checked(twin, reference, out);
  // The picture: the perturbation amplified to the full range, enlarged to be seen.
  at::Tensor picture = (trained.universal->delta() / (2 * std::max(info.eps, 1e-6)) + 0.5).clamp(0, 1);
  const int64_t scale = std::max<int64_t>(1, 256 / std::min(picture.size(2), picture.size(3)));
  picture = at::upsample_nearest2d(picture, {picture.size(2) * scale, picture.size(3) * scale});
  result.picture = fs::path(out).replace_extension(".png");
  data::write_image(result.picture, picture[0]);
  return result;
}

}  // namespace mf::exporting
