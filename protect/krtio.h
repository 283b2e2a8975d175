// The keyed pseudo-random function behind K-RTIO, exposed for its tests.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

namespace mf::protect {

using Key = std::array<unsigned char, 16>;

// A 16-byte key from a file holding 16 raw bytes or 32 hex digits; InputError otherwise.
Key read_key_file(const std::filesystem::path& path);

// PRF_key(label) = AES-128_key(SHA-256(label)[0:16]): hashing the label to one block and
// encrypting it under the key gives a pseudo-random function of labels of any length.
class KeyedPrf {
 public:
  explicit KeyedPrf(const Key& key) : key_(key) {}
  // A pseudo-random number in [0, n) for `label` (n much smaller than 2^64: no visible bias).
  uint64_t below(const std::string& label, uint64_t n) const;

 private:
  Key key_;
};

}  // namespace mf::protect
