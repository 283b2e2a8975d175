// K-RTIO: k-randomized transparent image overlays (Rajabi et al., PETS 2021). Each image is
// blended with the mean of k overlay images whose b x b blocks are shuffled; which overlays
// and which shuffles come from a keyed pseudo-random function of the image's id, so the
// key's holder rebuilds the same overlay and subtracts it.
#include "protect/krtio.h"

#include "core/error.h"
#include "data/image_io.h"
#include "protect/methods.h"

#include <ATen/ATen.h>
#include <openssl/evp.h>

#include <fstream>
#include <iterator>
#include <map>
#include <memory>

namespace mf::protect {

Key read_key_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_input("key file '{}' does not exist or cannot be read", path.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Key key{};
  if (bytes.size() == key.size()) {
    std::copy(bytes.begin(), bytes.end(), key.begin());
    return key;
  }
  std::string hex;
  for (char c : bytes) {
    if (!std::isspace(static_cast<unsigned char>(c))) hex += c;
  }
  if (hex.size() != 32 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    fail_input("key file '{}' must hold 16 bytes or 32 hex digits (make one with `head -c 16 /dev/urandom > {}`)", path.string(), path.filename().string());
  }
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return key;
}

uint64_t KeyedPrf::below(const std::string& label, uint64_t n) const {
  unsigned char digest[EVP_MAX_MD_SIZE], block[32];
  unsigned int digest_size = 0;
  EVP_Digest(label.data(), label.size(), digest, &digest_size, EVP_sha256(), nullptr);
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int written = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ecb(), nullptr, key_.data(), nullptr) != 1 || EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_EncryptUpdate(ctx.get(), block, &written, digest, 16) != 1 || written != 16) {
    fail_runtime("AES-128 failed in OpenSSL");
  }
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x = (x << 8) | block[i];
  return x % n;
}

namespace {

class KrtioMethod final : public Method {
 public:
  explicit KrtioMethod(KrtioOptions o) : o_(std::move(o)), prf_(read_key_file(o_.key_file)) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(o_.overlays)) fail_input("krtio: overlays folder '{}' does not exist", o_.overlays);
    std::vector<fs::path> files;
    for (const auto& f : fs::recursive_directory_iterator(o_.overlays)) {
      if (f.is_regular_file() && data::has_image_extension(f.path())) files.push_back(f.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      try {
        overlays_.push_back(data::to_tensor(data::read_image(f)));
      } catch (const data::BadImage& e) {
        fail_input("krtio: overlay '{}' {}", f.string(), e.what());
      }
    }
    if (overlays_.empty()) fail_input("krtio: overlays folder '{}' holds no image", o_.overlays);
  }

  at::Tensor protect(const at::Tensor& x, const std::vector<std::string>& ids) override {
    return (o_.alpha * x + (1 - o_.alpha) * overlays(x, ids)).clamp(0, 1);
  }
  at::Tensor decode(const at::Tensor& y, const std::vector<std::string>& ids) override {
    return ((y - (1 - o_.alpha) * overlays(y, ids)) / o_.alpha).clamp(0, 1);
  }
  std::string describe() const override {
    return fmt::format("K-RTIO (k {}, block {}, alpha {:g}, {} overlay images)", o_.k, o_.block, o_.alpha, overlays_.size());
  }

 private:
  // The overlay of each image: the mean of its k keyed, block-shuffled overlays.
  at::Tensor overlays(const at::Tensor& x, const std::vector<std::string>& ids) {
    std::vector<at::Tensor> out;
    for (const auto& id : ids) {
      at::Tensor sum = at::zeros({3, x.size(2), x.size(3)});
      for (int64_t j = 0; j < o_.k; ++j) {
        const uint64_t which = prf_.below(fmt::format("{}\x1foverlay\x1f{}", id, j), overlays_.size());
        sum += shuffled(resized(which, x.size(2), x.size(3)), fmt::format("{}\x1fpermutation\x1f{}", id, j));
      }
      out.push_back(sum / static_cast<double>(o_.k));
    }
    return at::stack(out).to(x.options());
  }

  // Overlay `i` at the image's size (antialiased), cached per size.
  const at::Tensor& resized(uint64_t i, int64_t h, int64_t w) {
    auto& r = resized_[{i, h, w}];
    if (!r.defined()) r = at::_upsample_bilinear2d_aa(overlays_[i].unsqueeze(0), {h, w}, false)[0].clamp(0, 1);
    return r;
  }

  // The whole b x b blocks of `overlay` in the order of a keyed Fisher-Yates shuffle (the
  // partial blocks at the right and bottom edges stay in place).
  at::Tensor shuffled(const at::Tensor& overlay, const std::string& label) const {
    const int64_t b = o_.block, rows = overlay.size(1) / b, cols = overlay.size(2) / b, n = rows * cols;
    if (n < 2) return overlay;
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    for (int64_t i = n - 1; i > 0; --i) {
      std::swap(order[static_cast<size_t>(i)], order[prf_.below(fmt::format("{}\x1f{}", label, i), static_cast<uint64_t>(i) + 1)]);
    }
    at::Tensor blocks = overlay.slice(1, 0, rows * b).slice(2, 0, cols * b).reshape({3, rows, b, cols, b}).permute({1, 3, 0, 2, 4}).reshape({n, 3, b, b});
    blocks = blocks.index_select(0, at::tensor(order, at::kLong));
    at::Tensor out = overlay.clone();
    out.slice(1, 0, rows * b).slice(2, 0, cols * b) = blocks.reshape({rows, cols, 3, b, b}).permute({2, 0, 3, 1, 4}).reshape({3, rows * b, cols * b});
    return out;
  }

  KrtioOptions o_;
  KeyedPrf prf_;
  std::vector<at::Tensor> overlays_;
  std::map<std::tuple<uint64_t, int64_t, int64_t>, at::Tensor> resized_;
};

}  // namespace

std::unique_ptr<Method> build_krtio(const MethodConfig& c, const MethodContext&) { return std::make_unique<KrtioMethod>(c.options.as<KrtioOptions>()); }

}  // namespace mf::protect
