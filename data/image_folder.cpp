// The `image_folder` dataset: every image under a folder, labels optionally from the first
// sub-folder's name.
#include "data/bad_files.h"
#include "data/builders.h"
#include "data/dataset_options.h"
#include "data/file_dataset.h"
#include "data/image_io.h"

#include "core/error.h"

#include <algorithm>
#include <set>

namespace mf::data {
namespace {

// Every image file under `root`, sorted so the dataset's numbering never depends on the
// file system's listing order. A folder named like an image is reported as a bad file.
std::vector<fs::path> find_images(const fs::path& root, BadFiles& bad) {
  std::error_code ec;
  if (!fs::exists(root, ec)) fail_input("data.root: folder '{}' does not exist", root.string());
  if (!fs::is_directory(root, ec)) fail_input("data.root: '{}' is not a folder", root.string());
  std::vector<fs::path> files;
  auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) fail_input("data.root: folder '{}' cannot be read: {}", root.string(), ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) fail_input("data.root: cannot list '{}': {}", root.string(), ec.message());
    if (!has_image_extension(it->path())) continue;
    if (it->is_directory(ec)) {
      bad.report(it->path().string(), "is a directory, not an image");
      it.disable_recursion_pending();
      continue;
    }
    files.push_back(it->path());  // unreadable or broken ones are reported by FileDataset
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The files in the first-level sub-folders named in `folders` (all files when it is empty).
std::vector<fs::path> in_folders(std::vector<fs::path> files, const fs::path& root, const std::vector<std::string>& folders) {
  if (folders.empty()) return files;
  for (const auto& name : folders) {
    if (!fs::is_directory(root / name)) fail_input("data.folders: '{}' is not a sub-folder of '{}'", name, root.string());
  }
  std::erase_if(files, [&](const fs::path& f) {
    auto rel = f.lexically_relative(root);
    return std::distance(rel.begin(), rel.end()) < 2 || std::find(folders.begin(), folders.end(), rel.begin()->string()) == folders.end();
  });
  return files;
}

std::vector<FileEntry> entries_of(const fs::path& root, const std::vector<std::string>& folders, bool labelled, std::vector<std::string>& classes,
                                  bool fixed_classes, BadFiles& bad) {
  std::vector<fs::path> files = in_folders(find_images(root, bad), root, folders);
  if (labelled && !fixed_classes) {
    std::set<std::string> names;
    for (const auto& f : files) {
      auto rel = f.lexically_relative(root);
      if (std::distance(rel.begin(), rel.end()) >= 2) names.insert(rel.begin()->string());
    }
    classes.assign(names.begin(), names.end());
  }
  std::vector<FileEntry> entries;
  for (const auto& f : files) {
    FileEntry e{f};
    if (labelled) {
      auto rel = f.lexically_relative(root);
      if (std::distance(rel.begin(), rel.end()) < 2) {
        fail_input("data.labels is folder, but '{}' is not inside a class folder of '{}'", f.string(), root.string());
      }
      auto pos = std::find(classes.begin(), classes.end(), rel.begin()->string());
      if (pos == classes.end()) {
        fail_input("'{}' is in class folder '{}', which the training folder does not have", f.string(), rel.begin()->string());
      }
      e.label = pos - classes.begin();
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace

DatasetSplits build_image_folder(const DataConfig& config, uint64_t seed) {
  const auto& o = config.options.as<ImageFolderOptions>();
  if (o.root.empty()) fail_input("data.root: the image_folder dataset needs a folder");
  auto bad = std::make_shared<BadFiles>(config.on_bad_file == "skip");
  const bool labelled = o.labels == "folder";
  std::vector<std::string> classes;
  auto all = entries_of(o.root, o.folders, labelled, classes, false, *bad);
  const std::string what = fmt::format("folder '{}'", o.root);
  if (!o.val_root.empty()) {
    auto val = entries_of(o.val_root, o.folders, labelled, classes, true, *bad);
    return {std::make_shared<FileDataset>(std::move(all), classes, bad, what, config.resize),
            std::make_shared<FileDataset>(std::move(val), classes, bad, fmt::format("folder '{}'", o.val_root), config.resize), bad};
  }
  return split_files(all, classes, bad, what, config, seed);
}

}  // namespace mf::data
