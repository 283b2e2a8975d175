#include "tests/support/files.h"

#include "checkpoints/files.h"

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

namespace mf::test {

TempDir::TempDir() {
  std::random_device rd;
  path_ = binary_dir() / "tmp" / ("t" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  try {
    checkpoints::remove_tree(path_);
  } catch (const std::exception&) {  // a destructor must not throw; a leftover folder is harmless
  }
}

void write_file(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path victims_dir() {
  const char* kernels = std::getenv("ATEN_CPU_CAPABILITY");
  return binary_dir() / "test_victims" / (kernels && *kernels ? kernels : "native");
}

}  // namespace mf::test
