// Files for tests: a temporary folder removed at the end, writing and reading text.
#pragma once

#include <filesystem>
#include <string>

namespace mf::test {

namespace fs = std::filesystem;

// A fresh folder under the build tree's tmp/, removed when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, const std::string& text);
std::string read_file(const fs::path& path);

// The repository root and the build folder.
inline fs::path source_dir() { return MF_SOURCE_DIR; }
inline fs::path binary_dir() { return MF_BINARY_DIR; }

// Where tests cache the victims they train or export: build/test_victims/<kernels>, one
// folder per ATEN_CPU_CAPABILITY ("native" when unset), because a victim made on one kernel
// path is not the victim another path would make (scripts/test-kernels.sh runs them all).
fs::path victims_dir();

}  // namespace mf::test
