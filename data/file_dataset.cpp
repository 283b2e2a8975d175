#include "data/file_dataset.h"

#include "core/error.h"
#include "data/image_io.h"

namespace mf::data {

FileDataset::FileDataset(std::vector<FileEntry> entries, std::vector<std::string> class_names,
                         std::shared_ptr<BadFiles> bad_files, const std::string& what, int64_t min_side)
    : class_names_(std::move(class_names)), bad_files_(std::move(bad_files)), min_side_(min_side) {
  if (entries.empty()) fail_input("{} holds no image (.jpg, .jpeg, .png, .bmp, .webp)", what);
  for (auto& e : entries) {
    if (auto why = check_image_file(e.path)) bad_files_->report(e.path.string(), *why);
    else entries_.push_back(std::move(e));
  }
  if (entries_.empty()) fail_input("{} holds no valid image: all {} files were skipped", what, entries.size());
}

Sample FileDataset::get(int64_t index) const {
  const int64_t n = size();
  for (int64_t k = 0; k < n; ++k) {
    const FileEntry& e = entries_[static_cast<size_t>((index + k) % n)];
    try {
      double scale = 1.0;
      Sample s{read_image(e.path, min_side_, &scale), e.label, e.identity, e.face_box};
      if (s.face_box) {
        for (float& c : *s.face_box) c = static_cast<float>(c * scale);
      }
      return s;
    } catch (const BadImage& bad) {
      bad_files_->report(e.path.string(), bad.what());
    }
  }
  fail_runtime("no image of the dataset could be decoded");
}

}  // namespace mf::data

namespace mf::data {

DatasetSplits split_files(const std::vector<FileEntry>& all, const std::vector<std::string>& class_names,
                          std::shared_ptr<BadFiles> bad_files, const std::string& what, const DataConfig& config, uint64_t seed) {
  if (all.empty()) fail_input("{} holds no image (.jpg, .jpeg, .png, .bmp, .webp)", what);
  auto pick = [&](const std::vector<int64_t>& indices) {
    std::vector<FileEntry> out;
    for (int64_t i : indices) out.push_back(all[static_cast<size_t>(i)]);
    return out;
  };
  auto [train, val] = split_indices(static_cast<int64_t>(all.size()), config.val_fraction, seed);
  DatasetSplits splits{std::make_shared<FileDataset>(pick(train), class_names, bad_files, what, config.resize), nullptr, bad_files};
  if (!val.empty()) {
    splits.val = std::make_shared<FileDataset>(pick(val), class_names, bad_files, what + " (validation part)", config.resize);
  }
  return splits;
}

}  // namespace mf::data
