// Subcommands whose work arrives with later issues. They declare their interface now and
// say plainly that they are not available yet (exit 2); none pretends to work.
#include "cli/commands.h"
#include "core/error.h"

namespace mf::cli {
namespace {

void not_yet(CLI::App& command, const char* issue) {
  command.callback([&command, issue] {
    fail_input("'maskforge {}' is not available in this build yet; it arrives with {}", command.get_name(), issue);
  });
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto* c = app.add_subcommand("eval", "evaluate protected images against victims");
  not_yet(*c, "the evaluation issue");
}

}  // namespace mf::cli
