// Registry: the kinds a config may name for one concept (datasets, generators, victims,
// losses, trainers, ...), each with its doc, its option struct and its builder. An unknown
// name is an input error that lists the known ones.
#pragma once

#include "core/config/options.h"
#include "core/config/suggest.h"
#include "core/error.h"

#include <fmt/ranges.h>

#include <functional>
#include <string>
#include <vector>

namespace mf {

template <class Builder>
class Registry {
 public:
  struct Entry {
    std::string name;
    std::string doc;
    std::function<config::Options()> options;
    Builder build;
  };

  Registry(std::string what, std::vector<Entry> entries) : what_(std::move(what)), entries_(std::move(entries)) {}

  const Entry& at(std::string_view name) const {
    for (const auto& e : entries_) {
      if (e.name == name) return e;
    }
    fail_input("unknown {} '{}'; known: {}{}", what_, name, fmt::join(names(), ", "), config::did_you_mean(name, names()));
  }
  bool contains(std::string_view name) const {
    return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; });
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.name);
    return out;
  }
  const std::vector<Entry>& entries() const { return entries_; }
  const std::string& what() const { return what_; }

 private:
  std::string what_;
  std::vector<Entry> entries_;
};

// The options factory of a registry entry whose options are the struct T.
template <class T>
std::function<config::Options()> options_of() {
  return [] { return config::Options::of<T>(); };
}

}  // namespace mf
