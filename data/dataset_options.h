// The options of each registered dataset (the keys beside `data.dataset`).
#pragma once

#include "core/config/config.h"

#include <string>
#include <vector>

namespace mf::data {

struct ImageFolderOptions {
  std::string root;
  std::string val_root;
  std::string labels = "none";
  std::vector<std::string> folders;

  template <class V>
  void visit(V& v) {
    v("root", root, "folder searched recursively for .jpg, .jpeg, .png, .bmp and .webp files");
    v("folders", folders, "only the images in these sub-folders of root (e.g. the identities a face model trains on); empty: all");
    v("val_root", val_root, "separate validation folder; empty splits root by val_fraction");
    v("labels", labels, "none, or folder: the first sub-folder's name is the class (sorted names give the indices)",
      config::one_of({"none", "folder"}));
  }
};

struct ManifestOptions {
  std::string csv;
  std::string val_csv;

  template <class V>
  void visit(V& v) {
    v("csv", csv, "CSV with a header: path (relative to the CSV), optional label, identity, face_box (x0,y0,x1,y1)");
    v("val_csv", val_csv, "separate validation CSV; empty splits csv by val_fraction");
  }
};

struct SyntheticOptions {
  int64_t images = 2048;
  int64_t classes = 4;
  int64_t size = 32;

  template <class V>
  void visit(V& v) {
    v("images", images, "number of generated images (before the validation split)", config::at_least(2));
    v("classes", classes, "number of classes (shapes on textured backgrounds)", config::in_range(2, 8));
    v("size", size, "side of the square images in pixels", config::in_range(16, 1024));
  }
};

struct Cifar10BinaryOptions {
  std::string root;

  template <class V>
  void visit(V& v) {
    v("root", root, "folder with data_batch_1..5.bin (training) and test_batch.bin (validation)");
  }
};

}  // namespace mf::data
