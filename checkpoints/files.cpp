#include "checkpoints/files.h"

#include "core/error.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <ftw.h>
#include <fstream>
#include <memory>
#include <unistd.h>

namespace mf::checkpoints {
namespace {

class Digest {
 public:
  Digest() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void update(const void* data, size_t n) { EVP_DigestUpdate(ctx_.get(), data, n); }
  std::string hex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), out, &n);
    std::string s;
    for (unsigned int i = 0; i < n; ++i) s += fmt::format("{:02x}", out[i]);
    return s;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

}  // namespace

void sync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail_runtime("cannot open '{}' to flush it: {}", path.string(), std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail_runtime("cannot flush '{}' to disk: {}", path.string(), std::strerror(errno));
}

void write_file_atomic(const fs::path& path, const std::string& bytes) {
  const fs::path tmp = path.string() + fmt::format(".tmp{}", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!(out << bytes) || !out.flush()) fail_runtime("cannot write '{}'", tmp.string());
  }
  sync_path(tmp);
  fs::rename(tmp, path);
  sync_path(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

std::string sha256(const std::string& bytes) {
  Digest d;
  d.update(bytes.data(), bytes.size());
  return d.hex();
}

std::string sha256_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_runtime("cannot read '{}'", path.string());
  Digest d;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    d.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  return d.hex();
}

void remove_tree(const fs::path& path) {
  // Depth first, without following links: a folder is emptied before it is removed.
  auto remove_one = [](const char* name, const struct stat*, int, struct FTW*) { return ::remove(name) == 0 ? 0 : errno; };
  const int err = ::nftw(path.c_str(), remove_one, 16, FTW_DEPTH | FTW_PHYS);
  if (err == -1 && errno == ENOENT) return;
  if (err != 0) fail_runtime("cannot remove '{}': {}", path.string(), std::strerror(err == -1 ? errno : err));
}

}  // namespace mf::checkpoints
