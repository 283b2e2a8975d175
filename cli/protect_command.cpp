#include "cli/commands.h"
#include "core/device.h"
#include "core/error.h"
#include "core/log.h"
#include "networks/ensemble.h"
#include "protect/protect_files.h"
#include "protection/config.h"

namespace mf::cli {

void add_protect_command(CLI::App& app) {
  struct Args {
    std::string model, method = "generator", config, device = "auto";
    std::vector<std::string> overrides;
    protect::ProtectOptions options;
    protect::SizeOptions sizes;
  };
  auto a = std::make_shared<Args>();
  auto* c = app.add_subcommand("protect", "protect an image or a folder of images (recursively) at native resolution");
  c->add_option("--input", a->options.input, "an image or a folder of images")->required();
  c->add_option("--output", a->options.output, "the folder for the protected copies (outside the input folder)")->required();
  c->add_option("--model", a->model, "an exported generator or UEP (maskforge export)");
  c->add_option("--method", a->method, "generator: apply --model; pgd: per-image PGD against --config's victims (slow, strongest)")
      ->check(CLI::IsMember({"generator", "pgd"}))
      ->capture_default_str();
  c->add_option("--config", a->config, "for --method pgd: the config whose victims, losses, eps and pgd options to use");
  add_overrides(*c, a->overrides);
  c->add_option("--jpeg-quality", a->options.jpeg_quality, "JPEG (and WebP) output quality; PNG is lossless")->check(CLI::Range(1, 100))->capture_default_str();
  c->add_option("--batch", a->options.batch, "images of one size protected together")->check(CLI::PositiveNumber)->capture_default_str();
  c->add_option("--work-megapixels", a->sizes.work_megapixels,
                "run the model on larger photos scaled down to this size and scale the perturbation up (fixed cost per photo); 0: native resolution")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  c->add_option("--max-megapixels", a->sizes.max_megapixels, "larger images are protected in overlapping tiles")->check(CLI::PositiveNumber)->capture_default_str();
  c->add_option("--tile", a->sizes.tile, "tile side in pixels")->check(CLI::Range(64, 16384))->capture_default_str();
  c->add_option("--overlap", a->sizes.overlap, "pixels shared by neighbouring tiles, blended")->check(CLI::Range(0, 4096))->capture_default_str();
  c->add_option("--device", a->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  c->callback([a] {
    if (a->sizes.overlap >= a->sizes.tile) fail_input("--overlap ({}) must be smaller than --tile ({})", a->sizes.overlap, a->sizes.tile);
    const auto device = select_device(a->device);
    std::unique_ptr<protect::Method> method;
    if (a->method == "pgd") {
      if (a->config.empty()) fail_input("--method pgd needs --config (the victims and losses to protect against)");
      method = protect::make_pgd(protection::load_config(a->config, a->overrides), device);
    } else {
      if (a->model.empty()) fail_input("--model is required (an exported generator or UEP), or use --method pgd --config CONFIG");
      method = protect::load_exported(a->model, a->sizes, device);
    }
    auto s = protect::protect_files(*method, a->options, device);
    std::vector<std::vector<std::string>> rows{{"protected", ""},
                                              {"images", std::to_string(s.images)},
                                              {"skipped", std::to_string(s.skipped)},
                                              {"megapixels/s", fmt::format("{:.2f}", s.megapixels / std::max(s.seconds, 1e-9))},
                                              {"mean SSIM", fmt::format("{:.4f}", s.mean_ssim)},
                                              {"mean PSNR", fmt::format("{:.2f} dB", s.mean_psnr)},
                                              {"per-image CSV", (a->options.output / "protect.csv").string()}};
    log::info("done\n{}", networks::format_table(rows));
  });
}

}  // namespace mf::cli
