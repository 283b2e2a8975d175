#include "cli/commands.h"
#include "core/log.h"
#include "export/export_run.h"

namespace mf::cli {

void add_export_command(CLI::App& app) {
  struct Args {
    std::string run, out;
  };
  auto args = std::make_shared<Args>();
  auto* c = app.add_subcommand("export", "export a trained generator or UEP to TorchScript (checked for parity before it is written)");
  c->add_option("run", args->run, "a run folder (its newest valid checkpoint) or a checkpoint folder")->required();
  c->add_option("--out", args->out, "the TorchScript file to write")->required();
  c->callback([args] {
    auto e = exporting::export_run(args->run, args->out);
    log::info("exported the {} of step {} (eps {:.4f} = {:.1f}/255) to {}{}", e.kind, e.step, e.eps, e.eps * 255, e.file.string(),
              e.picture.empty() ? "" : "; picture: " + e.picture.string());
  });
}

}  // namespace mf::cli
