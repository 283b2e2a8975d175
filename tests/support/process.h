// Running commands from tests: the maskforge binary, the virtualenv's Python.
#pragma once

#include <string>
#include <sys/types.h>

namespace mf::test {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // standard output and standard error, interleaved
};

// Runs `command` through the shell and captures its output.
CommandResult run_command(const std::string& command);

// Runs build/maskforge with `args` (shell syntax) from the repository root.
CommandResult run_maskforge(const std::string& args);

// A shell command running in the background, for tests that signal it or time it. Killed
// (SIGKILL) and reaped when the object goes, if it still runs.
class Background {
 public:
  explicit Background(const std::string& command);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  pid_t pid() const { return pid_; }
  // How it ended, waiting up to `seconds`: its exit status (0-255), 256 + N when signal N
  // killed it, or -1 while it still runs.
  int wait(double seconds = 1e9);

 private:
  pid_t pid_;
  int status_ = -1;
};

}  // namespace mf::test
