#include "data/dataset.h"

#include "data/random.h"

#include <cmath>

namespace mf::data {

std::pair<std::vector<int64_t>, std::vector<int64_t>> split_indices(int64_t n, double val_fraction, uint64_t seed) {
  const auto order = permutation(n, mix(seed, 0x5911));
  const auto n_val = static_cast<int64_t>(std::llround(static_cast<double>(n) * val_fraction));
  std::vector<int64_t> val(order.begin(), order.begin() + n_val), train(order.begin() + n_val, order.end());
  std::sort(train.begin(), train.end());
  std::sort(val.begin(), val.end());
  return {train, val};
}

std::vector<int64_t> evenly_spaced_indices(int64_t n, int64_t count) {
  std::vector<int64_t> indices(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) indices[static_cast<size_t>(i)] = i * n / count;
  return indices;
}

DatasetSplits split_dataset(std::shared_ptr<const Dataset> all, double val_fraction, uint64_t seed, std::shared_ptr<BadFiles> bad_files) {
  auto [train, val] = split_indices(all->size(), val_fraction, seed);
  DatasetSplits splits{std::make_shared<Subset>(all, train), nullptr, std::move(bad_files)};
  if (!val.empty()) splits.val = std::make_shared<Subset>(all, val);
  return splits;
}

}  // namespace mf::data
