#include "cli/commands.h"
#include "core/device.h"
#include "core/dist/context.h"
#include "core/log.h"
#include "trainers/trainer.h"

namespace mf::cli {

void add_train_command(CLI::App& app) {
  struct Args {
    std::string config;
    std::vector<std::string> overrides;
    trainers::TrainOptions options;
  };
  auto args = std::make_shared<Args>();
  auto* c = app.add_subcommand("train", "train a protection (SPAM generator, UEP, PGD baseline) or a surrogate victim from CONFIG");
  c->add_option("config", args->config, "the YAML config")->required();
  add_overrides(*c, args->overrides);
  c->add_option("--resume", args->options.resume, "continue a run: auto (the newest valid checkpoint of the run folder) or a checkpoint path");
  c->add_option("--init-from", args->options.init_from, "start from the generator weights of a checkpoint or run folder (weights only)");
  c->add_option("--stop-after", args->options.stop_after,
                "stop with a checkpoint after this many steps of this invocation (for time-limited jobs; the schedules still follow trainer.steps)")
      ->check(CLI::PositiveNumber);
  c->callback([args] {
    const auto config = protection::load_config(args->config, args->overrides);
    log::set_level(log::parse_level(config.run.log_level));
    // Under torchrun or srun: join the job; rank 0 speaks for it, the others only warn.
    const auto launch = dist::read_launch();
    auto context = std::make_shared<dist::Context>(launch, config.dist, select_device(config.run.device, launch.local_rank));
    if (!context->is_main()) log::set_level(std::max(log::parse_level(config.run.log_level), log::Level::warn));
    const int code = trainers::build_trainer(config, context)->train(args->options);
    if (code != 0) throw ExitRequest(code);
  });
}

}  // namespace mf::cli
