// Reader: fills a config struct from YAML, checking every value against its declaration.
// Errors name the file and line (or the --set override), the key path, what was expected,
// and for unknown keys the nearest valid one.
#pragma once

#include "core/config/check.h"
#include "core/config/options.h"
#include "core/config/scalar.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <stdexcept>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mf::config {

// Where config text came from: a file, and the key paths that --set replaced.
struct Source {
  std::string file;
  std::map<std::string, std::string> overrides;  // key path -> the --set argument

  // "configs/a.yaml:12" or "--set trainer.lr=x", for the node at `path`.
  std::string where(const std::string& path, const YAML::Node& node) const;
};

// Thrown by a section's validate() for a value that breaks a rule spanning several fields;
// `key` is the offending key path relative to the section.
class FieldError : public std::runtime_error {
 public:
  FieldError(std::string key, const std::string& message) : std::runtime_error(message), key(std::move(key)) {}
  std::string key;
};

template <class T>
concept Visitable = requires(T t, Reader& r) { t.visit(r); };

class Reader {
 public:
  Reader(YAML::Node map, std::string path, const Source& source);

  // One field: a scalar, a list, a map or a nested section.
  template <class T>
  void operator()(std::string_view key, T& value, std::string_view doc, const Check& check = {}) {
    known_.emplace_back(key);
    const YAML::Node node = std::as_const(map_)[std::string(key)];
    if (node.IsDefined()) read(node, child(key), value, check);
  }

  // A kind name looked up in `registry`, and that kind's own options, read from the same map.
  template <class R>
  void kind(std::string_view key, std::string& name, Options& options, const R& registry, std::string_view doc) {
    (*this)(key, name, doc, one_of(registry.names()));
    Options fresh = registry.at(name).options();
    if (options.empty() || !fresh.holds_same(options)) options = std::move(fresh);
    options.visit(*this);
    check([&] { options.validate(); });
  }

  // Reports keys that no field declared.
  void finish() const;

  // Runs value.validate() if the section has one, turning a FieldError into an error that
  // names the file, the line and the full key path.
  template <class T>
  void validate(T& value) const {
    if constexpr (requires { value.validate(); }) check([&] { value.validate(); });
  }

 private:
  // Runs `fn`; a FieldError it throws becomes an error located at that key.
  template <class F>
  void check(F&& fn) const {
    try {
      fn();
    } catch (const FieldError& e) {
      fail(e.key.empty() ? path_ : child(e.key), find(e.key), e.what());
    }
  }
  std::string child(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }
  [[noreturn]] void fail(const std::string& path, const YAML::Node& node, const std::string& message) const;
  std::string scalar(const YAML::Node& node, const std::string& path, std::string_view expected) const;

  void read(const YAML::Node& node, const std::string& path, bool& value, const Check& check);
  void read(const YAML::Node& node, const std::string& path, int64_t& value, const Check& check);
  void read(const YAML::Node& node, const std::string& path, double& value, const Check& check);
  void read(const YAML::Node& node, const std::string& path, std::string& value, const Check& check);
  void read(const YAML::Node& node, const std::string& path, std::map<std::string, double>& value, const Check& check);

  template <class T>
  void read(const YAML::Node& node, const std::string& path, std::vector<T>& value, const Check& check) {
    if (!node.IsSequence()) fail(path, node, fmt::format("expected a list, got {}", describe(node)));
    value.clear();
    for (size_t i = 0; i < node.size(); ++i) {
      T element{};
      read(node[i], path + "." + std::to_string(i), element, check);
      value.push_back(std::move(element));
    }
  }

  template <Visitable T>
  void read(const YAML::Node& node, const std::string& path, T& value, const Check&) {
    if (!node.IsMap()) fail(path, node, fmt::format("expected a section (key: value lines), got {}", describe(node)));
    Reader sub(node, path, source_);
    value.visit(sub);
    sub.finish();
    sub.validate(value);
  }

  static std::string describe(const YAML::Node& node);
  // The node at a relative key path, or the deepest one that exists on the way.
  YAML::Node find(const std::string& key) const;

  YAML::Node map_;
  std::string path_;
  const Source& source_;
  std::vector<std::string> known_;
};

}  // namespace mf::config
