// The registered datasets on real files: folders, manifests, CIFAR-10 batches, synthetic.
#include "data/bad_files.h"
#include "data/builders.h"
#include "data/image_io.h"
#include "data/dataset_options.h"
#include "data/loader.h"
#include "tests/support/files.h"
#include "tests/support/images.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <algorithm>
#include <map>

namespace mf::data {
namespace {

using test::TempDir;
using test::write_file;
using test::write_picture;

template <class O>
DataConfig config_of(const std::string& dataset, O options, double val_fraction = 0) {
  DataConfig c;
  c.dataset = dataset;
  c.options = config::Options::of(options);
  c.val_fraction = val_fraction;
  return c;
}

TEST(SyntheticDataset, IsDeterministicAndLooksLikePictures) {
  auto c = config_of("synthetic", SyntheticOptions{.images = 16, .classes = 4, .size = 32});
  auto a = build_datasets(c, 3).train, b = build_datasets(c, 3).train, other = build_datasets(c, 4).train;
  cv::Mat img = a->get(5).image;
  EXPECT_EQ(cv::norm(img, b->get(5).image, cv::NORM_INF), 0);
  EXPECT_GT(cv::norm(img, other->get(5).image, cv::NORM_L1), 0);
  EXPECT_EQ(a->get(6).label, 2);
  // Pictures, not noise: neighbouring pixels are much closer than random pairs.
  auto t = to_tensor(img);
  double neighbours = (t.slice(2, 1) - t.slice(2, 0, -1)).abs().mean().item<double>();
  double shuffled = (t.flatten(1) - t.flatten(1).roll(97, 1)).abs().mean().item<double>();
  EXPECT_LT(neighbours * 2.5, shuffled);
  EXPECT_EQ(a->class_names()[1], "square");
}

TEST(SyntheticDataset, SplitIsDeterministicAndDisjoint) {
  auto c = config_of("synthetic", SyntheticOptions{.images = 100}, 0.2);
  auto s1 = build_datasets(c, 9), s2 = build_datasets(c, 9);
  ASSERT_EQ(s1.train->size(), 80);
  ASSERT_EQ(s1.val->size(), 20);
  std::set<std::string> train;
  for (int64_t i = 0; i < 80; ++i) train.insert(s1.train->source(i));
  for (int64_t i = 0; i < 20; ++i) {
    EXPECT_EQ(s1.val->source(i), s2.val->source(i));
    EXPECT_FALSE(train.count(s1.val->source(i)));
  }
}

// maskforge eval's max_images: a class-sorted folder must keep every class.
TEST(EvenlySpacedIndices, KeepEveryClassOfASortedSetInProportion) {
  std::map<int64_t, int> per_class;  // 4 classes of 10 items, sorted by class
  for (int64_t i : evenly_spaced_indices(40, 8)) ++per_class[i / 10];
  EXPECT_EQ(per_class, (std::map<int64_t, int>{{0, 2}, {1, 2}, {2, 2}, {3, 2}}));
  EXPECT_EQ(evenly_spaced_indices(5, 5), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  const auto many = evenly_spaced_indices(1000, 333);
  EXPECT_TRUE(std::adjacent_find(many.begin(), many.end(), std::greater_equal<>()) == many.end()) << "ascending, no repeats";
  EXPECT_LT(many.back(), 1000);
}

TEST(ImageFolderDataset, FindsImagesRecursivelyWithFolderLabels) {
  TempDir dir;
  write_picture(dir / "dogs" / "a.jpg", test::picture(20, 20, 1));
  write_picture(dir / "dogs" / "deep" / "b.PNG", test::picture(20, 20, 2));
  write_picture(dir / "cats" / "c.bmp", test::picture(20, 20, 3));
  write_picture(dir / "cats" / "d.webp", test::picture(20, 20, 4));
  write_file(dir / "cats" / "notes.txt", "not an image");
  auto splits = build_datasets(config_of("image_folder", ImageFolderOptions{.root = dir.path().string(), .labels = "folder"}), 0);
  ASSERT_EQ(splits.train->size(), 4);
  EXPECT_EQ(splits.train->class_names(), (std::vector<std::string>{"cats", "dogs"}));
  EXPECT_EQ(splits.train->get(0).label, 0);  // cats/c.bmp sorts first
  EXPECT_EQ(splits.train->get(3).label, 1);
  EXPECT_EQ(splits.bad_files->count(), 0);
}

TEST(ImageFolderDataset, SeparateValidationFolderSharesClasses) {
  TempDir dir;
  write_picture(dir / "train" / "a" / "1.png", test::picture(8, 8, 1));
  write_picture(dir / "train" / "b" / "2.png", test::picture(8, 8, 2));
  write_picture(dir / "val" / "b" / "3.png", test::picture(8, 8, 3));
  auto splits = build_datasets(config_of("image_folder", ImageFolderOptions{.root = (dir / "train").string(), .val_root = (dir / "val").string(), .labels = "folder"}), 0);
  ASSERT_EQ(splits.val->size(), 1);
  EXPECT_EQ(splits.val->get(0).label, 1);
}

TEST(ImageFolderDataset, FoldersKeepOnlyTheNamedSubFolders) {
  TempDir dir;
  write_picture(dir / "ann" / "1.png", test::picture(8, 8, 1));
  write_picture(dir / "bob" / "2.png", test::picture(8, 8, 2));
  write_picture(dir / "bob" / "deep" / "3.png", test::picture(8, 8, 3));
  write_picture(dir / "cy" / "4.png", test::picture(8, 8, 4));
  write_picture(dir / "loose.png", test::picture(8, 8, 5));
  auto splits = build_datasets(config_of("image_folder", ImageFolderOptions{.root = dir.path().string(), .labels = "folder", .folders = {"cy", "bob"}}), 0);
  ASSERT_EQ(splits.train->size(), 3);
  EXPECT_EQ(splits.train->class_names(), (std::vector<std::string>{"bob", "cy"}));
  EXPECT_EQ(splits.train->get(2).label, 1);
  try {
    build_datasets(config_of("image_folder", ImageFolderOptions{.root = dir.path().string(), .folders = {"ann", "dan"}}), 0);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'dan' is not a sub-folder"), std::string::npos) << e.what();
  }
}

TEST(ImageFolderDataset, MissingEmptyOrUnlabelledFoldersAreBadInput) {
  TempDir dir;
  std::filesystem::create_directories(dir / "empty");
  EXPECT_THROW(build_datasets(config_of("image_folder", ImageFolderOptions{.root = (dir / "nope").string()}), 0), InputError);
  try {
    build_datasets(config_of("image_folder", ImageFolderOptions{.root = (dir / "empty").string()}), 0);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("holds no image"), std::string::npos) << e.what();
  }
  write_picture(dir / "loose.png", test::picture(8, 8, 1));
  EXPECT_THROW(build_datasets(config_of("image_folder", ImageFolderOptions{.root = dir.path().string(), .labels = "folder"}), 0), InputError);
}

TEST(ManifestDataset, ReadsLabelsIdentitiesAndFaceBoxesThatFollowThePixels) {
  TempDir dir;
  write_picture(dir / "img" / "p1.png", test::picture(100, 50, 1));
  write_picture(dir / "img" / "p2.png", test::picture(100, 50, 2));
  write_file(dir / "m.csv", "path,label,identity,face_box\nimg/p1.png,alice,id7,\"10,5,30,45\"\nimg/p2.png,bob,id8,60 0 90 20\n");
  auto c = config_of("manifest", ManifestOptions{.csv = (dir / "m.csv").string()});
  auto ds = build_datasets(c, 0).train;
  ASSERT_EQ(ds->size(), 2);
  Sample s = ds->get(0);
  EXPECT_EQ(s.label, 0);
  EXPECT_EQ(s.identity, "id7");
  EXPECT_EQ(*s.face_box, (Box{10, 5, 30, 45}));
  EXPECT_EQ(ds->class_names(), (std::vector<std::string>{"alice", "bob"}));
  // Resize the shorter side 50 -> 25, centre-crop 25, flip: the box moves with the pixels.
  Rng rng(0);
  Transform t{.resize = 25, .crop = 25};
  t.apply(s, rng);
  EXPECT_EQ(s.image.cols, 25);
  EXPECT_EQ(*s.face_box, (Box{0, 2.5f, 3, 22.5f}));  // crop starts at x = 12: 5 - 12 clamps to 0, 15 - 12 = 3
}

TEST(ManifestDataset, BadManifestsNameTheLine) {
  TempDir dir;
  write_picture(dir / "a.png", test::picture(8, 8, 1));
  auto expect_error = [&](const std::string& csv, const std::string& expected) {
    write_file(dir / "m.csv", csv);
    try {
      build_datasets(config_of("manifest", ManifestOptions{.csv = (dir / "m.csv").string()}), 0);
      ADD_FAILURE() << "no error for: " << csv;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  expect_error("path,lable\na.png,1\n", "unknown column 'lable'; known: path, label, identity, face_box; did you mean 'label'?");
  expect_error("label\n1\n", "the header has no 'path' column");
  expect_error("path,face_box\na.png,\"1,2,3\"\n", "m.csv:2: face_box: expected 4 numbers");
  expect_error("path,label\na.png\n", "m.csv:2: expected 2 fields like the header, got 1");
}

TEST(Cifar10Dataset, ReadsBinaryBatches) {
  TempDir dir;
  std::string batch;
  for (int r = 0; r < 3; ++r) {
    batch += static_cast<char>(r * 3);  // labels 0, 3, 6
    for (int c = 0; c < 3; ++c) batch += std::string(1024, static_cast<char>(10 * r + c));
  }
  write_file(dir / "data_batch_1.bin", batch);
  write_file(dir / "test_batch.bin", batch.substr(0, 3073));
  auto splits = build_datasets(config_of("cifar10_binary", Cifar10BinaryOptions{.root = dir.path().string()}), 0);
  ASSERT_EQ(splits.train->size(), 3);
  ASSERT_EQ(splits.val->size(), 1);
  Sample s = splits.train->get(2);
  EXPECT_EQ(s.label, 6);
  EXPECT_EQ(s.image.at<cv::Vec3b>(31, 31), (cv::Vec3b{20, 21, 22}));
  write_file(dir / "data_batch_1.bin", batch.substr(0, 100));
  EXPECT_THROW(build_datasets(config_of("cifar10_binary", Cifar10BinaryOptions{.root = dir.path().string()}), 0), InputError);
}

TEST(RealAssets, Cifar10TestFolderLoadsWithTenClasses) {
  auto assets = test::assets_dir();
  if (assets.empty()) GTEST_SKIP() << "../shared/assets is absent";
  auto c = config_of("image_folder", ImageFolderOptions{.root = (assets / "cifar10" / "test").string(), .labels = "folder"});
  c.batch_size = 100;
  auto splits = build_datasets(c, 0);
  ASSERT_EQ(splits.train->size(), 1000);
  EXPECT_EQ(splits.train->class_names().front(), "airplane");
  EXPECT_EQ(splits.train->class_names().size(), 10u);
  Loader loader(splits.train, loader_options(c, false, 0));
  Batch b = loader.next();
  EXPECT_EQ(b.images.sizes(), (at::IntArrayRef{100, 3, 32, 32}));
  EXPECT_EQ(splits.bad_files->count(), 0);
}

}  // namespace
}  // namespace mf::data
