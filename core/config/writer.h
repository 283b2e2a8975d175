// Writer: emits a config struct as YAML, every field with its resolved value, in the
// order of its declaration. The output reads back to the same config.
#pragma once

#include "core/config/check.h"
#include "core/config/options.h"
#include "core/config/scalar.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mf::config {

class Writer {
 public:
  explicit Writer(YAML::Emitter& out) : out_(out) {}

  template <class T>
  void operator()(std::string_view key, T& value, std::string_view doc, const Check& = {}) {
    out_ << YAML::Key << std::string(key) << YAML::Value;
    write(value);
  }

  template <class R>
  void kind(std::string_view key, std::string& name, Options& options, const R& registry, std::string_view doc) {
    (*this)(key, name, doc);
    Options fresh = registry.at(name).options();
    if (options.empty() || !fresh.holds_same(options)) options = std::move(fresh);
    options.visit(*this);
  }

 private:
  void write(bool v) { out_ << format(v); }
  void write(int64_t v) { out_ << format(v); }
  void write(double v) { out_ << format(v); }
  void write(const std::string& v) { out_ << v; }
  void write(const std::map<std::string, double>& v) {
    out_ << YAML::Flow << YAML::BeginMap;
    for (const auto& [k, x] : v) out_ << YAML::Key << k << YAML::Value << format(x);
    out_ << YAML::EndMap;
  }
  template <class T>
  void write(std::vector<T>& v) {
    if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, std::string>) out_ << YAML::Flow;
    out_ << YAML::BeginSeq;
    for (auto& x : v) write(x);
    out_ << YAML::EndSeq;
  }
  template <class T>
    requires requires(T t, Writer& w) { t.visit(w); }
  void write(T& section) {
    out_ << YAML::BeginMap;
    section.visit(*this);
    out_ << YAML::EndMap;
  }

  YAML::Emitter& out_;
};

// The YAML text of a whole config.
template <class C>
std::string to_yaml(C config) {
  YAML::Emitter out;
  Writer writer(out);
  out << YAML::BeginMap;
  config.visit(writer);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace mf::config
