#include "core/config/document.h"

#include "core/config/scalar.h"

#include <fmt/format.h>

namespace mf::config {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t p; (p = s.find(sep, start)) != std::string::npos; start = p + 1) parts.push_back(s.substr(start, p - start));
  parts.push_back(s.substr(start));
  return parts;
}

}  // namespace

YAML::Node load_yaml_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) fail_input("config file '{}' does not exist or is not a file", file.string());
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::ParserException& e) {
    fail_input("{}:{}:{}: YAML syntax error: {}", file.string(), e.mark.line + 1, e.mark.column + 1, e.msg);
  } catch (const YAML::BadFile&) {
    fail_input("config file '{}' cannot be read", file.string());
  }
  if (root.IsNull()) fail_input("{}: the config is empty; it needs at least 'version: 1'", file.string());
  if (!root.IsMap()) fail_input("{}: a config is a YAML map of sections (run:, data:, ...), not a list or a value", file.string());
  return root;
}

void apply_overrides(YAML::Node& root, const std::vector<std::string>& overrides, Source& source) {
  for (const auto& arg : overrides) {
    auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) fail_input("--set {}: expected key.path=value", arg);
    const std::string path = arg.substr(0, eq), text = arg.substr(eq + 1);
    YAML::Node value;
    try {
      value = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      fail_input("--set {}: the value is not valid YAML: {}", arg, e.msg);
    }
    const auto keys = split(path, '.');
    YAML::Node node = root;
    std::string walked;
    for (size_t i = 0; i < keys.size(); ++i) {
      const std::string& key = keys[i];
      if (key.empty()) fail_input("--set {}: empty key in '{}'", arg, path);
      const bool last = i + 1 == keys.size();
      if (node.IsSequence()) {
        auto index = parse_int(key);
        if (!index || *index < 0 || static_cast<size_t>(*index) >= node.size()) {
          fail_input("--set {}: '{}' is a list of {} elements; '{}' is not an index of it", arg, walked, node.size(), key);
        }
        if (last) node[*index] = value;
        else node.reset(node[*index]);
      } else if (node.IsMap() || node.IsNull() || !node.IsDefined()) {
        if (last) node[key] = value;
        else node.reset(node[key]);
      } else {
        fail_input("--set {}: '{}' is a value, not a section or a list", arg, walked);
      }
      walked += (walked.empty() ? "" : ".") + key;
    }
    source.overrides[path] = arg;
  }
}

void check_version(const YAML::Node& root, const Source& source, int64_t supported) {
  const YAML::Node v = root["version"];
  if (!v.IsDefined()) fail_input("{}: version: missing; add 'version: {}' (the config format version) at the top", source.file, supported);
  auto parsed = v.IsScalar() ? parse_int(v.Scalar()) : std::nullopt;
  if (!parsed || *parsed != supported) {
    fail_input("{}: version: config format version '{}' is not supported; this maskforge reads version {}",
               source.where("version", v), v.IsScalar() ? v.Scalar() : "?", supported);
  }
}

}  // namespace mf::config
