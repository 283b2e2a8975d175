#include "core/log.h"

#include "core/error.h"
#include "core/log_sink.h"

#include <fmt/ranges.h>

#include <atomic>

namespace mf::log {
namespace {

// spdlog's levels are trace=0 ... err=4, critical=5, off=6; ours skip critical.
int spdlog_level(Level level) { return level == Level::off ? 6 : static_cast<int>(level); }
std::atomic<Level> current{Level::info};

}  // namespace

Level parse_level(std::string_view name) {
  for (size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (kLevelNames[i] == name) return static_cast<Level>(i);
  }
  fail_input("unknown log level '{}'; known: {}", name, fmt::join(kLevelNames, ", "));
}

void set_level(Level level) {
  current = level;
  sink::set_level(spdlog_level(level));
}

bool enabled(Level level) { return level >= current.load() && level != Level::off; }

void add_file(const std::filesystem::path& file) { sink::add_file(file.string()); }

void write(Level level, std::string_view message) { sink::write(spdlog_level(level), message.data(), message.size()); }

void write_files(Level level, std::string_view message) { sink::write_files(spdlog_level(level), message.data(), message.size()); }

}  // namespace mf::log
