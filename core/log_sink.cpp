#include "core/log_sink.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace mf::log::sink {
namespace {

spdlog::sink_ptr console() {
  static auto instance = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sink->set_pattern("%^%H:%M:%S %-5l%$ %v");
    return sink;
  }();
  return instance;
}

spdlog::logger& logger() {
  static auto instance = [] {
    auto l = std::make_shared<spdlog::logger>("maskforge", console());
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::warn);
    return l;
  }();
  return *instance;
}

}  // namespace

void set_level(int level) { logger().set_level(static_cast<spdlog::level::level_enum>(level)); }

void add_file(const std::string& path) {
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
  file->set_pattern("%Y-%m-%d %H:%M:%S.%e %-5l %v");
  logger().sinks().push_back(file);
  logger().flush_on(spdlog::level::info);
}

void write(int level, const char* data, size_t size) {
  logger().log(static_cast<spdlog::level::level_enum>(level), spdlog::string_view_t(data, size));
}

void write_files(int level, const char* data, size_t size) {
  auto& l = logger();
  const auto spd_level = static_cast<spdlog::level::level_enum>(level);
  if (!l.should_log(spd_level)) return;
  const spdlog::details::log_msg message(l.name(), spd_level, spdlog::string_view_t(data, size));
  for (const auto& sink : l.sinks()) {
    if (sink == console()) continue;
    sink->log(message);
    sink->flush();
  }
}

}  // namespace mf::log::sink
