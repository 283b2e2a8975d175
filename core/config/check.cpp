#include "core/config/check.h"

#include "core/config/suggest.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mf::config {
namespace {

std::string number(double v) { return fmt::format("{:g}", v); }

}  // namespace

std::string Check::describe() const {
  if (!choices.empty()) return fmt::format("one of: {}", fmt::join(choices, ", "));
  if (lo && hi) {
    return fmt::format("in {}{}, {}{}", lo_open ? '(' : '[', number(*lo), number(*hi), hi_open ? ')' : ']');
  }
  if (lo) return fmt::format("{} {}", lo_open ? ">" : ">=", number(*lo));
  if (hi) return fmt::format("{} {}", hi_open ? "<" : "<=", number(*hi));
  return "";
}

std::optional<std::string> Check::violation(double value) const {
  bool below = lo && (lo_open ? value <= *lo : value < *lo);
  bool above = hi && (hi_open ? value >= *hi : value > *hi);
  if (below || above) return fmt::format("{} is out of range; allowed: {}", number(value), describe());
  return std::nullopt;
}

std::optional<std::string> Check::violation(const std::string& value) const {
  if (choices.empty() || std::find(choices.begin(), choices.end(), value) != choices.end()) return std::nullopt;
  return fmt::format("'{}' is not allowed; {}{}", value, describe(), did_you_mean(value, choices));
}

}  // namespace mf::config
