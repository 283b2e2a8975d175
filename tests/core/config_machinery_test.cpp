// The config machinery on a small config of its own: reading, checks, overrides,
// suggestions, writing back and the reference.
#include "core/config/config.h"
#include "core/config/document.h"
#include "tests/support/files.h"

#include <gtest/gtest.h>

namespace mf::config {
namespace {

using test::TempDir;
using test::write_file;

struct PlainOptions {
  int64_t depth = 3;
  template <class V>
  void visit(V& v) {
    v("depth", depth, "how deep", at_least(1));
  }
};
struct FancyOptions {
  double strength = 0.5;
  template <class V>
  void visit(V& v) {
    v("strength", strength, "how strong", fraction());
  }
};

const Registry<int>& shapes() {
  static const Registry<int> r("shape", {{"plain", "a plain one", options_of<PlainOptions>(), 1},
                                         {"fancy", "a fancy one", options_of<FancyOptions>(), 2}});
  return r;
}

struct Item {
  std::string name = "x";
  double weight = 1.0;
  template <class V>
  void visit(V& v) {
    v("name", name, "its name");
    v("weight", weight, "its weight", non_negative());
  }
};

struct Section {
  std::string shape = "plain";
  Options options;
  bool flag = false;
  std::vector<double> values = {1.0, 2.0};
  std::map<std::string, double> factors;
  template <class V>
  void visit(V& v) {
    v.kind("shape", shape, options, shapes(), "the shape");
    v("flag", flag, "a flag");
    v("values", values, "some values");
    v("factors", factors, "named factors");
  }
};

struct Toy {
  static constexpr int64_t kFormatVersion = 1;
  int64_t version = 1;
  int64_t steps = 10;
  double eps = 0.03;
  std::string mode = "fast";
  Section section;
  std::vector<Item> items;
  template <class V>
  void visit(V& v) {
    v("version", version, "format version");
    v("steps", steps, "step count", at_least(1));
    v("eps", eps, "budget", positive());
    v("mode", mode, "speed", one_of({"fast", "slow"}));
    v("section", section, "a section");
    v("items", items, "a list");
  }
};

Toy load_text(const std::string& text, const std::vector<std::string>& overrides = {}) {
  TempDir dir;
  write_file(dir / "toy.yaml", text);
  return load<Toy>(dir / "toy.yaml", overrides);
}

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    load_text(text, overrides);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConfigReader, ReadsEveryKindOfField) {
  Toy t = load_text(
      "version: 1\nsteps: 5\neps: 8/255\nmode: slow\n"
      "section: {shape: fancy, strength: 0.25, flag: yes, values: [3, 4.5], factors: {a: 2}}\n"
      "items:\n  - {name: a, weight: 2}\n  - {name: b}\n");
  EXPECT_EQ(t.steps, 5);
  EXPECT_DOUBLE_EQ(t.eps, 8.0 / 255);
  EXPECT_EQ(t.mode, "slow");
  EXPECT_EQ(t.section.shape, "fancy");
  EXPECT_DOUBLE_EQ(t.section.options.as<FancyOptions>().strength, 0.25);
  EXPECT_TRUE(t.section.flag);
  EXPECT_EQ(t.section.values, (std::vector<double>{3, 4.5}));
  EXPECT_DOUBLE_EQ(t.section.factors.at("a"), 2);
  ASSERT_EQ(t.items.size(), 2u);
  EXPECT_EQ(t.items[1].name, "b");
  EXPECT_DOUBLE_EQ(t.items[1].weight, 1.0);
}

TEST(ConfigReader, DefaultsStayWhenKeysAreAbsent) {
  Toy t = load_text("version: 1\n");
  EXPECT_EQ(t.steps, 10);
  EXPECT_EQ(t.section.options.as<PlainOptions>().depth, 3);
}

TEST(ConfigReader, ErrorsNameFileLineAndKeyPath) {
  std::string e = error_of("version: 1\nsteps: 5\nsection:\n  flag: maybe\n");
  EXPECT_NE(e.find("toy.yaml:4: section.flag: expected true or false, got 'maybe'"), std::string::npos) << e;
}

TEST(ConfigReader, UnknownKeySuggestsTheNearest) {
  EXPECT_NE(error_of("version: 1\nstesp: 5\n").find("stesp: unknown key; did you mean 'steps'?"), std::string::npos);
  EXPECT_NE(error_of("version: 1\nsection: {shape: fancy, strenght: 1}\n").find("did you mean 'strength'?"), std::string::npos);
  // Nothing near: list the valid keys instead.
  EXPECT_NE(error_of("version: 1\nzzzzzzzz: 5\n").find("valid keys here: version, steps"), std::string::npos);
}

TEST(ConfigReader, KindOptionsBelongToTheirKindOnly) {
  // `strength` is a fancy option; with shape plain it is unknown.
  EXPECT_NE(error_of("version: 1\nsection: {shape: plain, strength: 1}\n").find("section.strength: unknown key"), std::string::npos);
}

TEST(ConfigReader, UnknownKindListsKnownOnes) {
  std::string e = error_of("version: 1\nsection: {shape: fancyy}\n");
  EXPECT_NE(e.find("'fancyy' is not allowed; one of: plain, fancy; did you mean 'fancy'?"), std::string::npos) << e;
}

TEST(ConfigReader, ChecksRangesAndChoices) {
  EXPECT_NE(error_of("version: 1\nsteps: 0\n").find("steps: 0 is out of range; allowed: >= 1"), std::string::npos);
  EXPECT_NE(error_of("version: 1\neps: 0\n").find("allowed: > 0"), std::string::npos);
  EXPECT_NE(error_of("version: 1\nmode: medium\n").find("one of: fast, slow"), std::string::npos);
  EXPECT_NE(error_of("version: 1\nsteps: 2.5\n").find("expected an integer >= 1, got '2.5'"), std::string::npos);
  EXPECT_NE(error_of("version: 1\neps: 8/0\n").find("expected a number > 0, got '8/0'"), std::string::npos);
}

TEST(ConfigReader, ChecksShapes) {
  EXPECT_NE(error_of("version: 1\nsection: 3\n").find("section: expected a section"), std::string::npos);
  EXPECT_NE(error_of("version: 1\nitems: {name: a}\n").find("items: expected a list, got a section"), std::string::npos);
  EXPECT_NE(error_of("version: 1\nsteps: [1]\n").find("steps: expected an integer >= 1, got a list"), std::string::npos);
}

TEST(ConfigReader, ChecksTheFormatVersion) {
  EXPECT_NE(error_of("steps: 1\n").find("version: missing"), std::string::npos);
  EXPECT_NE(error_of("version: 7\n").find("config format version '7' is not supported; this maskforge reads version 1"),
            std::string::npos);
}

TEST(ConfigOverrides, SetScalarsListsAndListElements) {
  Toy t = load_text("version: 1\nitems: [{name: a}, {name: b}]\n",
                    {"steps=7", "section.shape=fancy", "section.strength=0.75", "items.1.weight=0.5", "section.values=[9]"});
  EXPECT_EQ(t.steps, 7);
  EXPECT_DOUBLE_EQ(t.section.options.as<FancyOptions>().strength, 0.75);
  EXPECT_DOUBLE_EQ(t.items[1].weight, 0.5);
  EXPECT_EQ(t.section.values, std::vector<double>{9});
}

TEST(ConfigOverrides, ErrorsPointAtTheOverride) {
  EXPECT_NE(error_of("version: 1\n", {"steps=abc"}).find("--set steps=abc: steps: expected an integer"), std::string::npos);
  EXPECT_NE(error_of("version: 1\n", {"stpes=1"}).find("--set stpes=1: stpes: unknown key; did you mean 'steps'?"), std::string::npos);
  EXPECT_NE(error_of("version: 1\nitems: [{name: a}]\n", {"items.3.weight=1"}).find("'items' is a list of 1 elements; '3' is not an index"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\n", {"steps"}).find("expected key.path=value"), std::string::npos);
}

TEST(ConfigWriter, RoundTripsEveryField) {
  Toy t = load_text("version: 1\neps: 8/255\nsection: {shape: fancy, strength: 0.1, factors: {z: 1.5}}\nitems: [{name: 'a b'}]\n");
  const std::string once = to_yaml(t);
  TempDir dir;
  write_file(dir / "again.yaml", once);
  Toy back = load<Toy>(dir / "again.yaml");
  EXPECT_EQ(to_yaml(back), once);
  EXPECT_DOUBLE_EQ(back.eps, 8.0 / 255);  // shortest round-trip formatting keeps every bit
  EXPECT_EQ(back.items[0].name, "a b");
}

TEST(ConfigSchema, DocumentsEveryFieldAndKind) {
  const std::string md = schema_markdown(Toy{}, "# toy\n");
  EXPECT_NE(md.find("| `steps` | integer | `10` | >= 1 | step count |"), std::string::npos) << md;
  EXPECT_NE(md.find("## section.shape = fancy"), std::string::npos);
  EXPECT_NE(md.find("| `strength` | number | `0.5` | in [0, 1] | how strong |"), std::string::npos);
  EXPECT_NE(md.find("## items[]"), std::string::npos);
}

TEST(ConfigSuggest, FindsTyposOnly) {
  EXPECT_EQ(nearest("lrr", {"lr", "steps"}), "lr");
  EXPECT_EQ(nearest("batchsize", {"batch_size", "workers"}), "batch_size");
  EXPECT_EQ(nearest("qwerty", {"lr", "steps"}), "");
}

}  // namespace
}  // namespace mf::config
