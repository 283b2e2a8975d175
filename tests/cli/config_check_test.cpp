// `maskforge config check`: a config naming a generator and victims of all four kinds is
// built for real and summarised.
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/python.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mf {
namespace {

TEST(ConfigCheck, BuildsAGeneratorAndVictimsOfEveryKind) {
  if (test::python().empty()) GTEST_SKIP() << "no Python virtualenv (make test creates it)";
  test::TempDir dir;
  test::write_file(dir / "tokens.json", R"({"prompts": [[5, 6]], "targets": [[7, 8, 9]]})");
  test::write_file(dir / "all.yaml", fmt::format(R"(version: 1
data: {{dataset: synthetic, images: 64}}
generator: {{arch: unet, depth: 6, noise_channels: 2}}
victims:
  - {{name: cifar, kind: classifier, source: torchscript, path: {}}}
  - {{name: clip, kind: embedder, source: torchscript, path: {}, weight: 0.5}}
  - {{name: pnet, kind: detector, source: torchscript, path: {}}}
  - {{name: vlm, kind: mllm, source: torchscript, path: {}, tokens: {}}}
  - {{name: tiny, kind: classifier, source: builtin, classes: 4}}
)",
                                                 test::exported_victim("cifar10_resnet20", "--random-init").string(),
                                                 test::exported_victim("open_clip:tiny", "--random-init").string(),
                                                 test::exported_victim("mtcnn_pnet", "--random-init").string(),
                                                 test::exported_victim("llava:tiny", "--random-init").string(), (dir / "tokens.json").string()));
  auto r = test::run_maskforge("config check " + (dir / "all.yaml").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("generator  unet:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("GMAC per megapixel"), std::string::npos);
  for (const char* row : {"cifar   classifier  32x32    0.27 M  1\n", "clip    embedder    32x32    0.13 M  0.5\n",
                          "pnet    detector    160x160  0.01 M  1\n", "vlm     mllm        32x32    0.18 M  1\n",
                          "tiny    classifier  32x32    0.29 M  1\n"}) {
    EXPECT_NE(r.output.find(row), std::string::npos) << row << "\n" << r.output;
  }
}

TEST(ConfigCheck, AVictimWithTheWrongKindIsBadInput) {
  if (test::python().empty()) GTEST_SKIP() << "no Python virtualenv";
  test::TempDir dir;
  test::write_file(dir / "c.yaml", fmt::format("version: 1\nvictims:\n  - {{name: rn, kind: embedder, source: torchscript, path: {}}}\n",
                                               test::exported_victim("cifar10_resnet20", "--random-init").string()));
  auto r = test::run_maskforge("config check " + (dir / "c.yaml").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("victim 'rn': kind is embedder but"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace mf
