// The `cifar10_binary` dataset: the original CIFAR-10 binary batches, each record one label
// byte and 3x32x32 pixel bytes (red plane, green plane, blue plane).
#include "core/error.h"
#include "data/bad_files.h"
#include "data/builders.h"
#include "data/dataset_options.h"

#include <fstream>

namespace mf::data {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSide = 32, kRecord = 1 + 3 * kSide * kSide;
const std::vector<std::string> kClasses = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

class Cifar10 final : public Dataset {
 public:
  explicit Cifar10(const std::vector<fs::path>& files) {
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      if (!in) fail_input("CIFAR-10 file '{}' cannot be read", f.string());
      std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (bytes.empty() || bytes.size() % kRecord) {
        fail_input("'{}' is not a CIFAR-10 binary batch: {} bytes is not a multiple of {}-byte records", f.string(), bytes.size(), kRecord);
      }
      for (size_t r = 0; r < bytes.size(); r += kRecord) {
        if (bytes[r] >= kClasses.size()) fail_input("'{}': record {} has label {}, not 0-9", f.string(), r / kRecord, bytes[r]);
        sources_.push_back(fmt::format("{}#{}", f.filename().string(), r / kRecord));
      }
      data_.insert(data_.end(), bytes.begin(), bytes.end());
    }
  }
  int64_t size() const override { return static_cast<int64_t>(sources_.size()); }
  std::string source(int64_t index) const override { return sources_.at(index); }
  std::vector<std::string> class_names() const override { return kClasses; }

  Sample get(int64_t index) const override {
    const uint8_t* r = data_.data() + index * kRecord;
    Sample s;
    s.label = r[0];
    s.image.create(kSide, kSide, CV_8UC3);
    for (int64_t p = 0; p < kSide * kSide; ++p) {
      for (int64_t c = 0; c < 3; ++c) s.image.data[p * 3 + c] = r[1 + c * kSide * kSide + p];
    }
    return s;
  }

 private:
  std::vector<uint8_t> data_;
  std::vector<std::string> sources_;
};

}  // namespace

DatasetSplits build_cifar10_binary(const DataConfig& config, uint64_t seed) {
  const fs::path root = config.options.as<Cifar10BinaryOptions>().root;
  if (root.empty() || !fs::is_directory(root)) fail_input("data.root: CIFAR-10 folder '{}' does not exist", root.string());
  std::vector<fs::path> train;
  for (int i = 1; i <= 5; ++i) {
    if (fs::exists(root / fmt::format("data_batch_{}.bin", i))) train.push_back(root / fmt::format("data_batch_{}.bin", i));
  }
  const fs::path test = root / "test_batch.bin";
  if (train.empty()) fail_input("data.root: '{}' has no data_batch_N.bin file", root.string());
  auto bad = std::make_shared<BadFiles>(config.on_bad_file == "skip");
  if (fs::exists(test)) return {std::make_shared<Cifar10>(train), std::make_shared<Cifar10>(std::vector<fs::path>{test}), bad};
  auto all = std::make_shared<Cifar10>(train);
  return split_dataset(all, config.val_fraction, seed, bad);
}

}  // namespace mf::data
