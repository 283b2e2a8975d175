#include "cli/commands.h"
#include "core/error.h"
#include "trainers/config.h"

#include <fstream>
#include <iostream>

namespace mf::cli {

void add_config_command(CLI::App& app) {
  auto* config = app.add_subcommand("config", "show a resolved config, or the reference of every config key");
  config->require_subcommand(1);

  struct ShowArgs {
    std::string file;
    std::vector<std::string> overrides;
  };
  auto show_args = std::make_shared<ShowArgs>();
  auto* show = config->add_subcommand("show", "print CONFIG with every default filled in and --set overrides applied");
  show->add_option("config", show_args->file, "the YAML config")->required();
  add_overrides(*show, show_args->overrides);
  show->callback([show_args] {
    const std::string yaml = trainers::to_yaml(trainers::load_config(show_args->file, show_args->overrides));
    std::cout << "# resolved by maskforge config show\n" << yaml;
  });

  auto out = std::make_shared<std::string>();
  auto* schema = config->add_subcommand("schema", "print the Markdown reference of every config key (docs/config.md)");
  schema->add_option("--out", *out, "write to this file instead of standard output");
  schema->callback([out] {
    const std::string md = trainers::schema_markdown();
    if (out->empty()) {
      std::cout << md;
      return;
    }
    std::ofstream file(*out);
    if (!(file << md)) fail_input("cannot write '{}'", *out);
  });
}

}  // namespace mf::cli
