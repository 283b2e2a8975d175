// Loading a whole config: the YAML file, then --set overrides, then the typed read.
#pragma once

#include "core/config/reader.h"
#include "core/error.h"

#include <filesystem>
#include <string>
#include <vector>

namespace mf::config {

// The file's YAML tree; a missing file or a syntax error is an InputError with its line.
YAML::Node load_yaml_file(const std::filesystem::path& file);

// Applies "key.path=value" overrides (list elements by index: victims.1.weight=0.5) and
// records them in `source` so that errors point at the --set argument.
void apply_overrides(YAML::Node& root, const std::vector<std::string>& overrides, Source& source);

// Checks the top-level `version` key against the one format version this build reads.
void check_version(const YAML::Node& root, const Source& source, int64_t supported);

// Reads a section C (a struct with visit()) from a YAML map: every key checked, unknown keys
// refused, validate() run.
template <class C>
C read(const YAML::Node& root, const Source& source) {
  C config;
  Reader reader(root, "", source);
  config.visit(reader);
  reader.finish();
  reader.validate(config);
  return config;
}

// Reads a config C (a struct with visit() and kFormatVersion) from a file plus overrides.
template <class C>
C load(const std::filesystem::path& file, const std::vector<std::string>& overrides = {}) {
  Source source{file.string(), {}};
  YAML::Node root = load_yaml_file(file);
  apply_overrides(root, overrides, source);
  check_version(root, source, C::kFormatVersion);
  return read<C>(root, source);
}

}  // namespace mf::config
