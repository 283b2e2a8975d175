// Dataset: numbered images with their labels. Decoding happens in get(), called from the
// loader's worker threads, so implementations are thread-safe and keep no per-call state.
#pragma once

#include <opencv2/core/mat.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mf::data {

// A box (x0, y0, x1, y1) in pixels of the image it belongs to.
using Box = std::array<float, 4>;

struct Sample {
  cv::Mat image;  // RGB, 8 bits per channel, height x width x 3
  int64_t label = -1;
  std::string identity;
  std::optional<Box> face_box;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Item `index` decoded. A file that cannot be decoded is handled by the dataset's
  // bad-file policy (see data/bad_files.h).
  virtual Sample get(int64_t index) const = 0;
  // Where item `index` comes from, for messages: a path, or "synthetic #12".
  virtual std::string source(int64_t index) const = 0;
  // Class names by label index; empty when the dataset has no labels.
  virtual std::vector<std::string> class_names() const { return {}; }
};

class BadFiles;

struct DatasetSplits {
  std::shared_ptr<const Dataset> train;
  std::shared_ptr<const Dataset> val;  // may be empty (val_fraction 0 and no validation path)
  std::shared_ptr<BadFiles> bad_files;  // what was skipped, for the metrics
};

// The items of `base` at `indices`, in that order.
class Subset final : public Dataset {
 public:
  Subset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices) : base_(std::move(base)), indices_(std::move(indices)) {}
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Sample get(int64_t index) const override { return base_->get(indices_.at(index)); }
  std::string source(int64_t index) const override { return base_->source(indices_.at(index)); }
  std::vector<std::string> class_names() const override { return base_->class_names(); }

 private:
  std::shared_ptr<const Dataset> base_;
  std::vector<int64_t> indices_;
};

// Splits 0..n-1 into (train, val) with round(n * val_fraction) validation items chosen by
// a permutation seeded with `seed`; both lists are sorted. Same seed, same split.
std::pair<std::vector<int64_t>, std::vector<int64_t>> split_indices(int64_t n, double val_fraction, uint64_t seed);

// `count` of 0..n-1 (count <= n) spread evenly, i * n / count: a folder sorted by class
// keeps every class in proportion, where the first `count` would keep the first classes.
std::vector<int64_t> evenly_spaced_indices(int64_t n, int64_t count);

// `all` split into Subsets by split_indices.
DatasetSplits split_dataset(std::shared_ptr<const Dataset> all, double val_fraction, uint64_t seed, std::shared_ptr<BadFiles> bad_files);

}  // namespace mf::data
