#include "cli/commands.h"
#include "core/device.h"
#include "core/error.h"
#include "core/log.h"
#include "data/bad_files.h"
#include "data/builders.h"
#include "eval/eval_config.h"
#include "networks/ensemble.h"
#include "networks/generator.h"
#include "protection/config.h"

#include <fstream>
#include <iostream>

namespace mf::cli {

void add_config_command(CLI::App& app) {
  auto* config = app.add_subcommand("config", "show a resolved config, or the reference of every config key");
  config->require_subcommand(1);

  struct ShowArgs {
    std::string file;
    std::vector<std::string> overrides;
    bool eval = false;
  };
  auto show_args = std::make_shared<ShowArgs>();
  auto* show = config->add_subcommand("show", "print CONFIG with every default filled in and --set overrides applied");
  show->add_option("config", show_args->file, "the YAML config")->required();
  show->add_flag("--eval", show_args->eval, "the file is an evaluation spec (maskforge eval)");
  add_overrides(*show, show_args->overrides);
  show->callback([show_args] {
    const std::string yaml = show_args->eval ? config::to_yaml(eval::load_eval_config(show_args->file, show_args->overrides))
                                             : protection::to_yaml(protection::load_config(show_args->file, show_args->overrides));
    std::cout << "# resolved by maskforge config show\n" << yaml;
  });

  auto check_args = std::make_shared<ShowArgs>();
  auto* check = config->add_subcommand("check", "build what CONFIG describes (data, generator, victims) and print a summary, without training");
  check->add_option("config", check_args->file, "the YAML config")->required();
  add_overrides(*check, check_args->overrides);
  check->callback([check_args] {
    const auto config = protection::load_config(check_args->file, check_args->overrides);
    const auto device = select_device(config.run.device);
    auto data = data::build_datasets(config.data, static_cast<uint64_t>(config.run.seed));
    std::cout << fmt::format("data       {}: {} training images, {} validation images, {} classes, {} bad files skipped\n",
                             config.data.dataset, data.train->size(), data.val ? data.val->size() : 0, data.train->class_names().size(),
                             data.bad_files->count());
    auto generator = networks::build_generator(config.generator);
    std::cout << fmt::format("generator  {}: {:.3f} M parameters, {:.2f} GMAC per megapixel\n", generator->arch(),
                             static_cast<double>(generator->parameter_count()) / 1e6, generator->macs_per_megapixel() / 1e9);
    networks::VictimEnsemble victims(config.victims, device);
    std::cout << "\n" << victims.summary();
  });

  struct SchemaArgs {
    std::string out;
    bool eval = false;
  };
  auto schema_args = std::make_shared<SchemaArgs>();
  auto* schema = config->add_subcommand("schema", "print the Markdown reference of every config key (docs/config.md; with --eval, docs/eval.md)");
  schema->add_option("--out", schema_args->out, "write to this file instead of standard output");
  schema->add_flag("--eval", schema_args->eval, "the reference of evaluation specs (maskforge eval) instead");
  schema->callback([schema_args] {
    const std::string md = schema_args->eval ? eval::eval_schema_markdown() : protection::schema_markdown();
    const std::string* out = &schema_args->out;
    if (out->empty()) {
      std::cout << md;
      return;
    }
    std::ofstream file(*out);
    if (!(file << md)) fail_input("cannot write '{}'", *out);
  });
}

}  // namespace mf::cli
