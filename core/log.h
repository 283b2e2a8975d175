// Logging. Messages are formatted here with fmt (the copy inside LibTorch, compiled by
// core/fmt.cpp) and written by a spdlog sink (core/log_sink.cpp), compiled apart so that
// spdlog's fmt (the system's libfmt) and LibTorch's never meet in one translation unit.
#pragma once

#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace mf::log {

enum class Level { trace, debug, info, warn, error, off };

// "trace", "debug", "info", "warn", "error", "off".
inline constexpr std::string_view kLevelNames[] = {"trace", "debug", "info", "warn", "error", "off"};
Level parse_level(std::string_view name);  // InputError on an unknown name

void set_level(Level level);
bool enabled(Level level);
// Also write every message to `file` (the run folder's log), from now on.
void add_file(const std::filesystem::path& file);
void write(Level level, std::string_view message);
// The same, to the added files only (the console shows it another way, e.g. in place).
void write_files(Level level, std::string_view message);

template <class... A>
void at(Level level, fmt::format_string<A...> format, A&&... args) {
  if (enabled(level)) write(level, fmt::format(format, std::forward<A>(args)...));
}
template <class... A>
void debug(fmt::format_string<A...> f, A&&... a) { at(Level::debug, f, std::forward<A>(a)...); }
template <class... A>
void info(fmt::format_string<A...> f, A&&... a) { at(Level::info, f, std::forward<A>(a)...); }
template <class... A>
void warn(fmt::format_string<A...> f, A&&... a) { at(Level::warn, f, std::forward<A>(a)...); }
template <class... A>
void error(fmt::format_string<A...> f, A&&... a) { at(Level::error, f, std::forward<A>(a)...); }

}  // namespace mf::log
