// `maskforge config`: the resolved config, overrides, the reference, and bad configs.
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "protection/config.h"

#include <gtest/gtest.h>

namespace mf {
namespace {

using test::read_file;
using test::run_maskforge;
using test::source_dir;
using test::TempDir;
using test::write_file;

const char* kGood = R"(version: 1
run:
  name: demo
data:
  dataset: synthetic
  images: 64
victims:
  - name: net
    kind: classifier
    source: builtin
    classes: 4
  - name: face
    kind: embedder
    source: builtin
    arch: tiny_embedder
losses:
  - name: untargeted_ce
    victims: [net]
  - name: rgb_gradient
    weight: 0.5
trainer:
  kind: spam
  steps: 20
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  if (pos == std::string::npos) return "test setup error: '" + from + "' is not in the config";
  return text.replace(pos, from.size(), to);
}

TEST(ConfigCommand, ShowPrintsTheResolvedConfigWithOverrides) {
  auto r = run_maskforge("config show configs/quickstart.yaml --set trainer.lr=0.01 --set victims.0.weight=0.5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("  lr: 0.01\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("    weight: 0.5\n"), std::string::npos);
  EXPECT_NE(r.output.find("  keep_last: 3\n"), std::string::npos);  // defaults are filled in
}

TEST(ConfigCommand, ShowOutputParsesBackToTheSameConfig) {
  TempDir dir;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "configs")) {
    if (entry.path().extension() != ".yaml") continue;
    // Evaluation specs (eval_*.yaml) are read as such.
    const std::string show = entry.path().filename().string().starts_with("eval_") ? "config show --eval " : "config show ";
    auto first = run_maskforge(show + entry.path().string());
    ASSERT_EQ(first.exit_code, 0) << entry.path() << ": " << first.output;
    write_file(dir / "shown.yaml", first.output);
    auto second = run_maskforge(show + (dir / "shown.yaml").string());
    ASSERT_EQ(second.exit_code, 0) << second.output;
    EXPECT_EQ(first.output, second.output) << entry.path();
  }
}

TEST(ConfigCommand, RoundTripInProcessKeepsEveryValue) {
  TempDir dir;
  write_file(dir / "a.yaml", kGood);
  auto a = protection::load_config(dir / "a.yaml", {"trainer.lr=1/3", "data.hflip=false"});
  write_file(dir / "b.yaml", protection::to_yaml(a));
  auto b = protection::load_config(dir / "b.yaml");
  EXPECT_EQ(protection::to_yaml(a), protection::to_yaml(b));
  EXPECT_EQ(b.trainer.lr, 1.0 / 3);
  EXPECT_FALSE(b.data.hflip);
  EXPECT_EQ(b.victims[1].source_options.as<networks::BuiltinSourceOptions>().arch, "tiny_embedder");
}

TEST(ConfigCommand, ReferenceInDocsIsUpToDate) {
  const std::string committed = read_file(source_dir() / "docs" / "config.md");
  EXPECT_EQ(committed, protection::schema_markdown())
      << "docs/config.md is out of date: run `build/maskforge config schema --out docs/config.md`";
}

struct BadCase {
  const char* name;
  std::string yaml;
  std::string overrides;
  std::string expected;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class BadConfig : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfig, ExitsTwoWithAClearMessage) {
  const BadCase& c = GetParam();
  TempDir dir;
  write_file(dir / "c.yaml", c.yaml);
  auto r = run_maskforge("config show " + (dir / "c.yaml").string() + " " + c.overrides);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(c.expected), std::string::npos) << "expected: " << c.expected << "\ngot: " << r.output;
  EXPECT_EQ(r.output.find("# resolved"), std::string::npos) << "nothing is printed for a bad config";
}

const std::string good = kGood;
INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfig,
    ::testing::Values(
        BadCase{"unknown_section", replace(good, "trainer:", "trainr:"), "", "c.yaml:21: trainr: unknown key; did you mean 'trainer'?"},
        BadCase{"unknown_key", replace(good, "steps: 20", "stpes: 20"), "", "c.yaml:23: trainer.stpes: unknown key; did you mean 'steps'?"},
        BadCase{"wrong_type", replace(good, "steps: 20", "steps: many"), "", "trainer.steps: expected an integer >= 1, got 'many'"},
        BadCase{"out_of_range", replace(good, "steps: 20", "steps: 0"), "", "trainer.steps: 0 is out of range; allowed: >= 1"},
        BadCase{"negative_weight", replace(good, "weight: 0.5", "weight: -0.5"), "", "c.yaml:20: losses.1.weight: -0.5 is out of range; allowed: >= 0"},
        BadCase{"unknown_loss", replace(good, "untargeted_ce", "untargetted_ce"), "", "losses.0.name: 'untargetted_ce' is not allowed; one of: untargeted_ce, relativistic_ce, targeted_ce"},
        BadCase{"unknown_dataset", replace(good, "dataset: synthetic", "dataset: imagefolder"), "", "did you mean 'image_folder'?"},
        BadCase{"unknown_generator", good, "--set generator.arch=resnett", "--set generator.arch=resnett: generator.arch: 'resnett' is not allowed; one of: resnet, unet"},
        BadCase{"unknown_trainer", replace(good, "kind: spam", "kind: spma"), "", "trainer.kind: 'spma' is not allowed; one of: spam, uep, pgd, classifier; did you mean 'spam'?"},
        BadCase{"unknown_victim_kind", replace(good, "kind: classifier", "kind: classifer"), "", "victims.0.kind: 'classifer' is not allowed; one of: classifier, embedder, detector, mllm; did you mean 'classifier'?"},
        BadCase{"bad_choice", good, "--set data.on_bad_file=ignore", "data.on_bad_file: 'ignore' is not allowed; one of: skip, fail"},
        BadCase{"option_of_other_kind", replace(good, "images: 64", "root: /data"), "", "data.root: unknown key"},
        BadCase{"dataset_option_typo", replace(good, "images: 64", "imags: 64"), "", "data.imags: unknown key; did you mean 'images'?"},
        BadCase{"missing_version", replace(good, "version: 1\n", ""), "", "version: missing; add 'version: 1'"},
        BadCase{"unsupported_version", replace(good, "version: 1", "version: 2"), "", "c.yaml:1: version: config format version '2' is not supported"},
        BadCase{"yaml_syntax", replace(good, "steps: 20", "steps: [20"), "", "YAML syntax error"},
        BadCase{"section_is_value", replace(good, "run:\n  name: demo", "run: 5"), "", "c.yaml:2: run: expected a section (key: value lines), got '5'"},
        BadCase{"list_is_section", good, "--set 'victims={name: x}'", "victims: expected a list, got a section"},
        BadCase{"loss_names_missing_victim", replace(good, "victims: [net]", "victims: [nett]"), "", "c.yaml:18: losses.0.victims.0: no victim is named 'nett'; victims: face, net; did you mean 'net'?"},
        BadCase{"guide_names_missing_victim", good, "--set 'generator.guide=[nett]'", "generator.guide.0: no victim is named 'nett'; victims: face, net; did you mean 'net'?"},
        BadCase{"guide_steps_without_guide", good, "--set generator.guide_steps=2", "generator.guide_steps: 2 passes need a guide: set generator.guide"},
        BadCase{"guide_steps_of_a_detector", replace(good, "kind: embedder\n    source: builtin\n    arch: tiny_embedder", "kind: detector\n    source: torchscript\n    path: d.pt"),
                "--set 'generator.guide=[face]' --set generator.guide_steps=3", "generator.guide_steps: a detector guide ('face') on its own boxes takes one pass"},
        BadCase{"guide_crops_without_a_detector_guide", good, "--set generator.guide_crops=8",
                "generator.guide_crops: the crops are a detector guide's: set generator.guide to a detector victim"},
        BadCase{"guide_top_k_without_guide", good, "--set generator.guide_top_k=2",
                "generator.guide_top_k: the classes a guide moves away from need a guide: set generator.guide"},
        BadCase{"guide_top_k_weights_of_one_class", good, "--set generator.guide_top_k_weights=clean",
                "generator.guide_top_k_weights: guide_top_k_weights weighs the guide's top classes: set generator.guide_top_k to 2 or more"},
        BadCase{"guide_jpeg_without_guide", good, "--set generator.guide_jpeg=75",
                "generator.guide_jpeg: the gradient through JPEG is the guide's: set generator.guide"},
        BadCase{"guide_jpeg_below_quality_1", good, "--set 'generator.guide=[face]' --set generator.guide_jpeg=0.5",
                "generator.guide_jpeg: 0.5 is neither 0 (off) nor a JPEG quality, 1 to 100"},
        BadCase{"balance_victims_with_pcgrad", good, "--set trainer.balance_victims=true --set trainer.combine=pcgrad",
                "trainer.balance_victims: balance_victims rescales the victims' gradients before they add up; trainer.combine pcgrad takes them as one: choose one"},
        BadCase{"top_k_weights_of_one_class", replace(good, "name: untargeted_ce", "name: untargeted_ce\n    top_k_weights: clean"), "",
                "losses.0.top_k_weights: top_k_weights weighs the top_k classes: set top_k to 2 or more"},
        BadCase{"top_k_against_labels", replace(good, "name: untargeted_ce", "name: untargeted_ce\n    against: label\n    top_k: 2"), "",
                "losses.0.top_k: top_k counts the clean prediction's classes; with against: label it must be 1"},
        BadCase{"guide_not_torchscript", good, "--set 'generator.guide=[net]'",
                "generator.guide.0: a guide victim is a TorchScript classifier, detector or mllm with a plain output; 'net' is a builtin classifier victim"},
        BadCase{"duplicate_victim", replace(good, "name: face", "name: net"), "", "victims.1.name: victim name 'net' is used twice"},
        BadCase{"input_size_shape", good, "--set victims.0.input_size=[32]", "victims.0.input_size: expected [height, width]"},
        BadCase{"torchscript_without_path", replace(good, "source: builtin\n    classes: 4", "source: torchscript"), "", "victims.0.path: a torchscript victim needs `path`"},
        BadCase{"bad_index", good, "--set victims.7.weight=1", "'victims' is a list of 2 elements; '7' is not an index of it"},
        BadCase{"malformed_set", good, "--set trainer.lr", "--set trainer.lr: expected key.path=value"},
        BadCase{"zero_denominator", good, "--set trainer.lr=1/0", "trainer.lr: expected a number > 0, got '1/0'"},
        BadCase{"loss_on_wrong_kind", replace(good, "name: untargeted_ce\n    victims: [net]", "name: embedding_dodge\n    victims: [net]"), "",
                "c.yaml:18: losses.0.victims.0: embedding_dodge applies to embedder victims; 'net' is a classifier"},
        BadCase{"quality_term_with_victims", replace(good, "weight: 0.5", "weight: 0.5\n    victims: [net]"), "",
                "losses.1.victims.0: rgb_gradient is a quality term; it takes no victims"},
        BadCase{"no_victim_of_the_kind", replace(good, "name: untargeted_ce\n    victims: [net]", "name: detection_suppress"), "",
                "losses.0.name: detection_suppress needs a victim of kind detector; the config has none"},
        BadCase{"term_option_typo", replace(good, "name: untargeted_ce", "name: untargeted_ce\n    agianst: label"), "",
                "losses.0.agianst: unknown key; did you mean 'against'?"},
        BadCase{"robustness_range", good, "--set 'robustness=[{name: jpeg, quality: [90, 40]}]'",
                "robustness.0.quality: expected [min, max] with 1 <= min <= max <= 100"},
        BadCase{"eps_schedule_typo", good, "--set eps.schedule=cosin", "eps.schedule: 'cosin' is not allowed; one of: constant, linear, cosine, ratio; did you mean 'cosine'?"},
        BadCase{"empty_file", "", "", "the config is empty"},
        BadCase{"not_a_map", "- a\n- b\n", "", "a config is a YAML map of sections"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ConfigCommand, MissingFileIsBadInput) {
  auto r = run_maskforge("config show does/not/exist.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("config file 'does/not/exist.yaml' does not exist"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace mf
