// Running commands from tests: the maskforge binary, the virtualenv's Python.
#pragma once

#include <string>

namespace mf::test {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // standard output and standard error, interleaved
};

// Runs `command` through the shell and captures its output.
CommandResult run_command(const std::string& command);

// Runs build/maskforge with `args` (shell syntax) from the repository root.
CommandResult run_maskforge(const std::string& args);

}  // namespace mf::test
