#include "core/config/reader.h"

#include "core/config/suggest.h"
#include "core/error.h"

namespace mf::config {

std::string Source::where(const std::string& path, const YAML::Node& node) const {
  // The longest overridden prefix of `path` owns the node.
  for (std::string p = path;; p = p.substr(0, p.rfind('.'))) {
    if (auto it = overrides.find(p); it != overrides.end()) return "--set " + it->second;
    if (p.find('.') == std::string::npos) break;
  }
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? file : fmt::format("{}:{}", file, mark.line + 1);
}

Reader::Reader(YAML::Node map, std::string path, const Source& source)
    : map_(std::move(map)), path_(std::move(path)), source_(source) {}

void Reader::fail(const std::string& path, const YAML::Node& node, const std::string& message) const {
  throw InputError(fmt::format("{}: {}: {}", source_.where(path, node), path, message));
}

void Reader::finish() const {
  for (const auto& item : map_) {
    const std::string key = item.first.Scalar();
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string hint = did_you_mean(key, known_);
    if (hint.empty()) hint = fmt::format("; valid keys here: {}", fmt::join(known_, ", "));
    fail(child(key), item.first, "unknown key" + hint);
  }
}

YAML::Node Reader::find(const std::string& key) const {
  YAML::Node node = map_;
  size_t start = 0;
  while (start < key.size()) {
    size_t end = std::min(key.find('.', start), key.size());
    const std::string part = key.substr(start, end - start);
    auto index = parse_int(part);
    const YAML::Node next = node.IsMap()                                                         ? std::as_const(node)[part]
                            : node.IsSequence() && index && *index >= 0 && size_t(*index) < node.size() ? node[*index]
                                                                                                    : YAML::Node();
    if (!next.IsDefined() || next.IsNull()) break;
    node.reset(next);
    start = end + 1;
  }
  return node;
}

std::string Reader::describe(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a section";
  if (node.IsNull()) return "nothing";
  return "'" + node.Scalar() + "'";
}

std::string Reader::scalar(const YAML::Node& node, const std::string& path, std::string_view expected) const {
  if (!node.IsScalar()) fail(path, node, fmt::format("expected {}, got {}", expected, describe(node)));
  return node.Scalar();
}

void Reader::read(const YAML::Node& node, const std::string& path, bool& value, const Check&) {
  auto v = parse_bool(scalar(node, path, "true or false"));
  if (!v) fail(path, node, fmt::format("expected true or false, got {}", describe(node)));
  value = *v;
}

void Reader::read(const YAML::Node& node, const std::string& path, int64_t& value, const Check& check) {
  std::string expected = check.describe().empty() ? "an integer" : "an integer " + check.describe();
  auto v = parse_int(scalar(node, path, expected));
  if (!v) fail(path, node, fmt::format("expected {}, got {}", expected, describe(node)));
  if (auto why = check.violation(static_cast<double>(*v))) fail(path, node, *why);
  value = *v;
}

void Reader::read(const YAML::Node& node, const std::string& path, double& value, const Check& check) {
  std::string expected = check.describe().empty() ? "a number" : "a number " + check.describe();
  auto v = parse_number(scalar(node, path, expected));
  if (!v) fail(path, node, fmt::format("expected {}, got {}", expected, describe(node)));
  if (auto why = check.violation(*v)) fail(path, node, *why);
  value = *v;
}

void Reader::read(const YAML::Node& node, const std::string& path, std::string& value, const Check& check) {
  std::string expected = check.choices.empty() ? "a string" : check.describe();
  std::string v = node.IsNull() ? "" : scalar(node, path, expected);
  if (auto why = check.violation(v)) fail(path, node, *why);
  value = std::move(v);
}

void Reader::read(const YAML::Node& node, const std::string& path, std::map<std::string, double>& value, const Check& check) {
  if (!node.IsMap()) fail(path, node, fmt::format("expected a map of name: number, got {}", describe(node)));
  value.clear();
  for (const auto& item : node) {
    const std::string key = item.first.Scalar();
    read(item.second, path + "." + key, value[key], check);
  }
}

}  // namespace mf::config
