// FileDataset: images listed as files (image_folder, manifest). Files that fail the cheap
// checks are dropped when the dataset is built; a file that then fails to decode is
// replaced by the next decodable one, so batches keep their size and the data stay a pure
// function of the order. Both go through the bad-file policy.
#pragma once

#include "data/bad_files.h"
#include "data/data_config.h"
#include "data/dataset.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mf::data {

struct FileEntry {
  std::filesystem::path path;
  int64_t label = -1;
  std::string identity;
  std::optional<Box> face_box;
};

class FileDataset final : public Dataset {
 public:
  // `what` names the collection in errors ("folder 'photos'"); `min_side` lets JPEGs be
  // decoded at reduced scale when they will be resized to that shorter side anyway (face
  // boxes, in pixels of the image as displayed, are scaled with them).
  FileDataset(std::vector<FileEntry> entries, std::vector<std::string> class_names, std::shared_ptr<BadFiles> bad_files,
              const std::string& what, int64_t min_side);

  int64_t size() const override { return static_cast<int64_t>(entries_.size()); }
  Sample get(int64_t index) const override;
  std::string source(int64_t index) const override { return entries_.at(index).path.string(); }
  std::vector<std::string> class_names() const override { return class_names_; }

 private:
  std::vector<FileEntry> entries_;
  std::vector<std::string> class_names_;
  std::shared_ptr<BadFiles> bad_files_;
  int64_t min_side_;
};

// Train and validation datasets from one list of files, split by config.val_fraction.
DatasetSplits split_files(const std::vector<FileEntry>& all, const std::vector<std::string>& class_names,
                          std::shared_ptr<BadFiles> bad_files, const std::string& what, const DataConfig& config, uint64_t seed);

}  // namespace mf::data
