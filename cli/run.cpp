#include "cli/commands.h"
#include "core/device.h"
#include "core/dist/launch.h"
#include "core/error.h"
#include "core/log.h"
#include "data/image_io.h"

#include <c10/util/Exception.h>

#include <iostream>

namespace mf::cli {

CLI::Option* add_overrides(CLI::App& command, std::vector<std::string>& overrides) {
  return command.add_option("--set", overrides, "override a config value: key.path=value (repeatable; list elements by index)")
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
}

namespace {

int fail(const std::string& message, int code) {
  log::error("{}", message);
  dist::record_error_for_launcher(message);
  return code;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app("maskforge: train and apply protections that make photos unreadable to AI models", "maskforge");
  app.set_version_flag("--version", [] { return describe_build(); }, "print the toolkit, LibTorch and CUDA versions and the GPUs seen");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "console verbosity: trace, debug, info, warn, error, off")->capture_default_str();
  double max_image_megapixels = static_cast<double>(data::kDefaultMaxImagePixels) / 1e6;
  app.add_option("--max-image-megapixels", max_image_megapixels,
                 "refuse images whose header declares more megapixels, before decoding (decompression bombs): protect and eval skip "
                 "them with the reason, training follows data.on_bad_file")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.require_subcommand(1);
  app.fallthrough();
  app.parse_complete_callback([&] {
    log::set_level(log::parse_level(log_level));
    data::set_max_image_pixels(static_cast<int64_t>(max_image_megapixels * 1e6));
  });

  add_train_command(app);
  add_export_command(app);
  add_protect_command(app);
  add_eval_command(app);
  add_config_command(app);

  try {
    app.parse(argc, argv);
    return kExitOk;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const ExitRequest& e) {
    return e.code;
  } catch (const CLI::ParseError& e) {
    std::cerr << "maskforge: " << e.what() << "\n(run with --help for usage)\n";
    return kExitBadInput;
  } catch (const InputError& e) {
    return fail(e.what(), kExitBadInput);
  } catch (const c10::Error& e) {
    return fail(e.what_without_backtrace(), kExitRuntime);
  } catch (const std::exception& e) {
    return fail(e.what(), kExitRuntime);
  }
}

}  // namespace mf::cli
