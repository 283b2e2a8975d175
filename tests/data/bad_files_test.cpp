// Broken files, written for real: each is skipped (logged once, counted) or stops the run.
#include "data/bad_files.h"
#include "data/builders.h"
#include "data/dataset_options.h"
#include "data/loader.h"
#include "tests/support/files.h"
#include "tests/support/images.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <unistd.h>

namespace mf::data {
namespace {

using test::TempDir;
using test::write_file;
namespace fs = std::filesystem;

// A folder of 4 good images and one of each kind of broken file.
struct BrokenFolder {
  TempDir dir;
  std::vector<std::string> bad;
  BrokenFolder() {
    for (int i = 0; i < 4; ++i) test::write_picture(dir / ("good" + std::to_string(i) + ".jpg"), test::picture(24, 24, i));
    const std::string jpeg = test::read_file(dir / "good0.jpg");
    write_file(dir / "truncated.jpg", jpeg.substr(0, jpeg.size() / 2));
    write_file(dir / "random.png", std::string("\x13\x37 this is not a picture at all \xff\x00", 34));
    write_file(dir / "empty.jpg", "");
    fs::create_directories(dir / "folder.jpg");
    fs::create_symlink(dir / "gone.png", dir / "dangling.png");
    // A decompression bomb: a small PNG whose header declares 20000 x 20000 pixels.
    test::write_picture(dir / "bomb.png", test::picture(24, 24, 5));
    std::string png = test::read_file(dir / "bomb.png");
    png.replace(16, 8, std::string("\x00\x00\x4E\x20\x00\x00\x4E\x20", 8));
    write_file(dir / "bomb.png", png);
    bad = {"truncated.jpg", "random.png", "empty.jpg", "folder.jpg", "dangling.png", "bomb.png"};
    if (::geteuid() != 0) {  // root reads any file, so only a normal user can make one unreadable
      test::write_picture(dir / "locked.png", test::picture(24, 24, 9));
      fs::permissions(dir / "locked.png", fs::perms::none);
      bad.push_back("locked.png");
    }
  }
  DataConfig config(const std::string& policy) const {
    DataConfig c;
    c.dataset = "image_folder";
    c.options = config::Options::of(ImageFolderOptions{.root = dir.path().string()});
    c.val_fraction = 0;
    c.on_bad_file = policy;
    c.batch_size = 2;
    return c;
  }
};

TEST(BadFiles, SkipPolicyDropsAndCountsEachBrokenFile) {
  BrokenFolder f;
  testing::internal::CaptureStderr();
  auto splits = build_datasets(f.config("skip"), 0);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(splits.train->size(), 4);
  EXPECT_EQ(splits.bad_files->count(), static_cast<int64_t>(f.bad.size()));
  for (const auto& name : f.bad) EXPECT_NE(log.find(name), std::string::npos) << name << " not logged:\n" << log;
  EXPECT_NE(log.find("is truncated (no JPEG end-of-image marker)"), std::string::npos) << log;
  EXPECT_NE(log.find("unknown file signature"), std::string::npos);
  EXPECT_NE(log.find("is empty (0 bytes)"), std::string::npos);
  EXPECT_NE(log.find("is a directory"), std::string::npos);
  EXPECT_NE(log.find("is a broken link"), std::string::npos);
  EXPECT_NE(log.find("is too large: its header declares 20000 x 20000 pixels"), std::string::npos);
  Loader loader(splits.train, loader_options(f.config("skip"), true, 0));
  EXPECT_EQ(loader.next().images.size(0), 2);
}

TEST(BadFiles, FailPolicyStopsWithThePathAndReason) {
  BrokenFolder f;
  try {
    build_datasets(f.config("fail"), 0);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("data.on_bad_file is fail"), std::string::npos) << e.what();
  }
}

TEST(BadFiles, AFolderOfOnlyBrokenFilesIsAnErrorBeforeTraining) {
  TempDir dir;
  write_file(dir / "a.png", "nope");
  write_file(dir / "b.jpg", "");
  DataConfig c;
  c.dataset = "image_folder";
  c.options = config::Options::of(ImageFolderOptions{.root = dir.path().string()});
  c.val_fraction = 0;
  testing::internal::CaptureStderr();
  try {
    build_datasets(c, 0);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("holds no valid image: all 2 files were skipped"), std::string::npos) << e.what();
  }
  testing::internal::GetCapturedStderr();
}

TEST(BadFiles, AFileThatFailsToDecodeIsReplacedByTheNextAndLoggedOnce) {
  TempDir dir;
  test::write_picture(dir / "a.png", test::picture(24, 24, 1));
  test::write_picture(dir / "b.png", test::picture(24, 24, 2));
  // Valid signature and end, corrupt pixel data in between: passes the cheap checks.
  std::string png = test::read_file(dir / "a.png");
  for (size_t i = 60; i < png.size() - 20; ++i) png[i] = static_cast<char>(png[i] ^ 0x5a);
  write_file(dir / "a.png", png);
  DataConfig c;
  c.dataset = "image_folder";
  c.options = config::Options::of(ImageFolderOptions{.root = dir.path().string()});
  c.val_fraction = 0;
  auto splits = build_datasets(c, 0);
  ASSERT_EQ(splits.train->size(), 2);
  testing::internal::CaptureStderr();
  Sample first = splits.train->get(0);
  Sample again = splits.train->get(0);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(cv::norm(first.image, splits.train->get(1).image, cv::NORM_INF), 0);  // b.png stands in
  EXPECT_EQ(cv::norm(again.image, first.image, cv::NORM_INF), 0);
  EXPECT_EQ(splits.bad_files->count(), 1);
  EXPECT_EQ(log.find("a.png"), log.rfind("a.png")) << "logged more than once:\n" << log;
}

}  // namespace
}  // namespace mf::data
