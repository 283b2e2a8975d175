#include "protection/config_diff.h"

#include <yaml-cpp/yaml.h>

#include <map>

namespace mf::protection {
namespace {

void flatten(const YAML::Node& node, const std::string& path, std::map<std::string, std::string>& out) {
  if (node.IsMap()) {
    for (const auto& item : node) flatten(item.second, path.empty() ? item.first.Scalar() : path + "." + item.first.Scalar(), out);
  } else if (node.IsSequence() && !(node.size() > 0 && node[0].IsScalar())) {
    for (size_t i = 0; i < node.size(); ++i) flatten(node[i], path + "." + std::to_string(i), out);
    if (node.size() == 0) out[path] = "[]";
  } else {
    YAML::Emitter e;
    e << YAML::Flow << node;
    out[path] = e.c_str();
  }
}

std::vector<std::string> differing(const Config& a, const Config& b, bool incompatible) {
  std::map<std::string, std::string> fa, fb;
  flatten(YAML::Load(to_yaml(a)), "", fa);
  flatten(YAML::Load(to_yaml(b)), "", fb);
  auto shapes = [](const std::string& key) {
    return key.starts_with("generator.") || key == "trainer.kind" || key == "trainer.size" || key == "trainer.arch";
  };
  std::vector<std::string> out;
  for (const auto* m : {&fa, &fb}) {
    for (const auto& [k, v] : *m) {
      const auto& other = m == &fa ? fb : fa;
      auto it = other.find(k);
      if ((it != other.end() && it->second == v) || std::find(out.begin(), out.end(), k) != out.end()) continue;
      if (k.starts_with("run.")) continue;
      if (shapes(k) == incompatible) out.push_back(k);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> incompatible_keys(const Config& saved, const Config& current) { return differing(saved, current, true); }
std::vector<std::string> changed_keys(const Config& saved, const Config& current) { return differing(saved, current, false); }

}  // namespace mf::protection
