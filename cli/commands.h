// The maskforge subcommands. Each add_* function declares one subcommand on the app and
// sets its callback; errors are thrown (mf::InputError: exit 2, others: exit 1).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace mf::cli {

void add_config_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_protect_command(CLI::App& app);
void add_eval_command(CLI::App& app);

// Thrown by a subcommand that ends with a specific exit code (e.g. 130 after SIGINT).
struct ExitRequest {
  int code;
};

// `--set key.path=value`, repeatable, one value per flag.
CLI::Option* add_overrides(CLI::App& command, std::vector<std::string>& overrides);

// Parses argv, runs the chosen subcommand and returns the process exit code.
int run(int argc, char** argv);

}  // namespace mf::cli
