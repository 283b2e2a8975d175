#include "tests/support/process.h"

#include "tests/support/files.h"

#include <array>
#include <cstdio>
#include <stdexcept>

#include <sys/wait.h>

namespace mf::test {

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

CommandResult run_maskforge(const std::string& args) {
  return run_command("cd '" + source_dir().string() + "' && '" + (binary_dir() / "maskforge").string() + "' " + args);
}

}  // namespace mf::test
