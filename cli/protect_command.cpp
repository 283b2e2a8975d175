#include "cli/commands.h"
#include "core/config/document.h"
#include "core/device.h"
#include "core/error.h"
#include "core/log.h"
#include "networks/ensemble.h"
#include "protect/exported_model.h"
#include "protect/protect_files.h"

namespace mf::cli {
namespace {

struct Args {
  std::string model, method = "model", config, key_file, mode = "encode", device = "auto";
  std::vector<std::string> overrides;
  uint64_t seed = 0;
  protect::ProtectOptions options;
  protect::ModelOptions sizes;
};

// The method's options as a YAML map, from the flags that belong to it, then --set.
protect::MethodConfig method_config(const Args& a, const CLI::App& c) {
  YAML::Node root;
  root["method"] = a.method;
  config::Source source{"the command line", {}};
  if (a.method == "pgd") {
    if (a.config.empty()) fail_input("--method pgd needs --config (the victims and losses to protect against)");
    root["config"] = a.config;
    for (const auto& o : a.overrides) root["overrides"].push_back(o);
    return config::read<protect::MethodConfig>(root, source);
  }
  if (a.method == "model") {
    if (a.model.empty()) fail_input("--model is required (an exported generator or UEP), or name another --method");
    root["path"] = a.model;
    for (const char* flag : {"--work-megapixels", "--max-megapixels", "--tile", "--overlap"}) {
      if (c.count(flag) == 0) continue;
      std::string key = std::string(flag).substr(2);
      std::replace(key.begin(), key.end(), '-', '_');
      root[key] = c.get_option(flag)->as<std::string>();
    }
  } else if (!a.model.empty()) {
    fail_input("--model belongs to --method model, not {}", a.method);
  }
  if (!a.key_file.empty()) root["key_file"] = a.key_file;
  config::apply_overrides(root, a.overrides, source);
  return config::read<protect::MethodConfig>(root, source);
}

}  // namespace

void add_protect_command(CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* c = app.add_subcommand("protect", "protect an image or a folder of images (recursively) at native resolution");
  c->add_option("--input", a->options.input, "an image or a folder of images")->required();
  c->add_option("--output", a->options.output, "the folder for the protected copies (outside the input folder)")->required();
  c->add_option("--method", a->method, "model: apply --model; pgd: per-image PGD against --config's victims; or a baseline: " +
                                           fmt::format("{}", fmt::join(protect::methods().names(), ", ")))
      ->check(CLI::IsMember(protect::methods().names()))
      ->capture_default_str();
  c->add_option("--model", a->model, "an exported generator or UEP (maskforge export)");
  c->add_option("--config", a->config, "for --method pgd: the config whose victims, losses, eps and pgd options to use");
  add_overrides(*c, a->overrides)->description("--method pgd: override a key of --config; other methods: set one of the method's options (block=8)");
  c->add_option("--key-file", a->key_file, "for --method krtio: the secret key (16 bytes or 32 hex digits)");
  c->add_option("--mode", a->mode, "encode (protect) or decode (undo a K-RTIO or UEP protection)")->check(CLI::IsMember({"encode", "decode"}))->capture_default_str();
  c->add_option("--seed", a->seed, "seed of random methods (noise, DP noise), mixed with each image's path")->capture_default_str();
  c->add_option("--jpeg-quality", a->options.jpeg_quality, "JPEG (and WebP) output quality; PNG is lossless")->check(CLI::Range(1, 100))->capture_default_str();
  c->add_option("--batch", a->options.batch, "images of one size protected together")->check(CLI::PositiveNumber)->capture_default_str();
  c->add_option("--work-megapixels", a->sizes.work_megapixels,
                "run the model on larger photos scaled down to this many megapixels and scale the perturbation up (fixed cost per photo); auto: "
                "the size of the generator's training images; 0: native resolution")
      ->capture_default_str();
  c->add_option("--max-megapixels", a->sizes.max_megapixels, "larger images are protected in overlapping tiles")->capture_default_str();
  c->add_option("--tile", a->sizes.tile, "tile side in pixels")->capture_default_str();
  c->add_option("--overlap", a->sizes.overlap, "pixels shared by neighbouring tiles, blended")->capture_default_str();
  c->add_flag("--skip-existing", a->options.skip_existing,
              "leave images whose output already exists, and append to protect.csv: continues an interrupted folder");
  c->add_option("--device", a->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  c->callback([a, c] {
    const auto device = select_device(a->device);
    auto method = protect::build_method(method_config(*a, *c), {device, a->seed});
    a->options.decode = a->mode == "decode";
    auto s = protect::protect_files(*method, a->options, device);
    std::vector<std::vector<std::string>> rows{{a->options.decode ? "decoded" : "protected", ""},
                                              {"images", std::to_string(s.images)},
                                              {"skipped", std::to_string(s.skipped)},
                                              {"already there (--skip-existing)", std::to_string(s.existing)},
                                              {"megapixels/s", fmt::format("{:.2f}", s.megapixels / std::max(s.seconds, 1e-9))},
                                              {"mean SSIM", fmt::format("{:.4f}", s.mean_ssim)},
                                              {"mean PSNR", fmt::format("{:.2f} dB", s.mean_psnr)}};
    if (a->options.decode) rows.push_back({"input values at 0 or 1 (possibly clipped)", fmt::format("{:.2f} %", 100 * s.saturated)});
    rows.push_back({"per-image CSV", (a->options.output / "protect.csv").string()});
    log::info("done\n{}", networks::format_table(rows));
  });
}

}  // namespace mf::cli
