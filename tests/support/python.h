// Running the virtualenv's Python (tools/, references) from tests.
#pragma once

#include "tests/support/process.h"

#include <filesystem>
#include <string>

namespace mf::test {

// The virtualenv's python, or empty when the build has none (LIBTORCH without --python).
std::string python();

// Runs `python tools/<script> <args>` from the repository root.
CommandResult run_tool(const std::string& script, const std::string& args);

// A victim exported by tools/export_victim.py (`source`: --random-init or --weights FILE)
// into victims_dir(), shared by the test processes and reused until tools/ changes.
std::filesystem::path exported_victim(const std::string& model, const std::string& source);

}  // namespace mf::test
