// Text <-> value for config scalars, shared by the reader, the writer and the reference.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mf::config {

// Parse failures return nothing; the caller reports where and what was expected.
std::optional<bool> parse_bool(const std::string& text);
std::optional<int64_t> parse_int(const std::string& text);
// Also accepts a fraction "a/b", the usual way to write eps ("8/255").
std::optional<double> parse_number(const std::string& text);

// The shortest text that parses back to the same value.
std::string format(bool value);
std::string format(int64_t value);
std::string format(double value);

// What the reference calls each type.
template <class T>
constexpr const char* type_name() {
  if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_integral_v<T>) return "integer";
  else if constexpr (std::is_floating_point_v<T>) return "number";
  else if constexpr (std::is_same_v<T, std::string>) return "string";
  else if constexpr (std::is_same_v<T, std::vector<double>>) return "list of numbers";
  else if constexpr (std::is_same_v<T, std::vector<int64_t>>) return "list of integers";
  else if constexpr (std::is_same_v<T, std::vector<std::string>>) return "list of strings";
  else if constexpr (std::is_same_v<T, std::map<std::string, double>>) return "map: string -> number";
  else return "section";
}

}  // namespace mf::config
