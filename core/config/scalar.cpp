#include "core/config/scalar.h"

#include <charconv>
#include <cmath>

namespace mf::config {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

template <class T>
std::optional<T> parse_whole(const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true" || text == "True" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "False" || text == "no" || text == "off") return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(const std::string& text) {
  std::string t = trim(text);
  if (!t.empty() && t[0] == '+') t.erase(0, 1);
  return parse_whole<int64_t>(t);
}

std::optional<double> parse_number(const std::string& text) {
  std::string t = trim(text);
  if (auto slash = t.find('/'); slash != std::string::npos) {
    auto num = parse_number(t.substr(0, slash)), den = parse_number(t.substr(slash + 1));
    if (!num || !den || *den == 0.0) return std::nullopt;
    return *num / *den;
  }
  if (!t.empty() && t[0] == '+') t.erase(0, 1);
  if (t == ".inf" || t == "inf") return INFINITY;
  auto v = parse_whole<double>(t);
  if (v && !std::isfinite(*v)) return std::nullopt;
  return v;
}

std::string format(bool value) { return value ? "true" : "false"; }
std::string format(int64_t value) { return std::to_string(value); }

std::string format(double value) {
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
  std::string s(buf, ptr);
  // Keep numbers looking like numbers to a reader: 1 -> 1.0, 1e-05 stays.
  if (s.find_first_of(".eE") == std::string::npos && s.find("inf") == std::string::npos && s.find("nan") == std::string::npos) s += ".0";
  return s;
}

}  // namespace mf::config
