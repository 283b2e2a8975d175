// The two failures maskforge reports, and the exit codes they map to.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace mf {

// Exit codes of the maskforge executable.
enum ExitCode : int {
  kExitOk = 0,
  kExitRuntime = 1,      // something failed while working
  kExitBadInput = 2,     // bad usage, config, path or file
  kExitInterrupted = 130 // SIGINT; SIGTERM gives 143
};

// The user gave something maskforge cannot use (config, path, file). Exit code 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Work failed for a reason other than the user's input. Exit code 1.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void fail_input(fmt::format_string<Args...> format, Args&&... args) {
  throw InputError(fmt::format(format, std::forward<Args>(args)...));
}

template <class... Args>
[[noreturn]] void fail_runtime(fmt::format_string<Args...> format, Args&&... args) {
  throw RuntimeError(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace mf
