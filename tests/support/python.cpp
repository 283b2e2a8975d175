#include "tests/support/python.h"

#include "tests/support/files.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>

namespace mf::test {

std::string python() { return MF_PYTHON; }

CommandResult run_tool(const std::string& script, const std::string& args) {
  return run_command("cd '" + source_dir().string() + "' && '" + python() + "' tools/" + script + " " + args);
}

std::filesystem::path exported_victim(const std::string& model, const std::string& source) {
  namespace fs = std::filesystem;
  std::string code;
  for (const auto& f : fs::recursive_directory_iterator(source_dir() / "tools")) {
    if (f.path().extension() == ".py") code += read_file(f.path());
  }
  std::string stem = fmt::format("{}_{:x}", model, std::hash<std::string>{}(code + source));
  std::replace(stem.begin(), stem.end(), ':', '_');
  const fs::path dir = victims_dir(), out = dir / (stem + ".pt");
  if (!fs::exists(out)) {
    // Written under a temporary name, then renamed: parallel tests may export the same model.
    fs::create_directories(dir);
    const fs::path tmp = dir / fmt::format("{}.{}.pt", stem, ::getpid());
    auto r = run_tool("export_victim.py", model + " " + source + " --out " + tmp.string());
    if (r.exit_code != 0) {
      ADD_FAILURE() << "export of " << model << " failed:\n" << r.output;
      return out;
    }
    fs::rename(fs::path(tmp).replace_extension(".json"), fs::path(out).replace_extension(".json"));
    fs::rename(tmp, out);
  }
  return out;
}

}  // namespace mf::test
