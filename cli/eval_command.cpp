#include "cli/commands.h"
#include "core/log.h"
#include "eval/evaluation.h"
#include "eval/report.h"

#include <chrono>

namespace mf::cli {

void add_eval_command(CLI::App& app) {
  struct Args {
    std::string spec;
    std::vector<std::string> overrides;
  };
  auto a = std::make_shared<Args>();
  auto* c = app.add_subcommand("eval", "measure protections against victims and countermeasures; writes eval.json, eval.csv and report.html");
  c->add_option("spec", a->spec, "the evaluation spec (YAML; reference: docs/eval.md)")->required();
  add_overrides(*c, a->overrides);
  c->callback([a] {
    const auto config = eval::load_eval_config(a->spec, a->overrides);
    const std::filesystem::path run_dir = std::filesystem::path(config.run.out_dir) / config.run.name;
    std::filesystem::create_directories(run_dir);
    log::add_file(run_dir / "eval.log");
    const auto start = std::chrono::steady_clock::now();
    const auto result = eval::evaluate(config);
    eval::write_results(result, config, run_dir);
    log::info("evaluated {} images in {:.0f} s; results in {}\n{}", result.images,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), (run_dir / "report.html").string(),
              eval::summary_tables(result));
  });
}

}  // namespace mf::cli
