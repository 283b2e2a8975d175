// What values a config field allows. A Check validates a value and describes itself, so
// the same declaration drives errors and the reference in docs/config.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mf::config {

struct Check {
  std::optional<double> lo, hi;  // numeric bounds
  bool lo_open = false, hi_open = false;
  std::vector<std::string> choices;  // allowed strings; empty means any

  // "in [0, 1]", ">= 1", "one of: a, b"; empty when anything goes.
  std::string describe() const;
  // Why `value` is not allowed, or nothing when it is.
  std::optional<std::string> violation(double value) const;
  std::optional<std::string> violation(const std::string& value) const;
};

inline Check at_least(double lo) { return {.lo = lo}; }
inline Check positive() { return {.lo = 0.0, .lo_open = true}; }
inline Check non_negative() { return at_least(0.0); }
inline Check in_range(double lo, double hi) { return {.lo = lo, .hi = hi}; }
inline Check fraction() { return in_range(0.0, 1.0); }
inline Check one_of(std::vector<std::string> choices) { return {.choices = std::move(choices)}; }

}  // namespace mf::config
