// The spdlog side of core/log.h: plain types only, no fmt, so both fmt copies stay apart.
#pragma once

#include <string>

namespace mf::log::sink {

void set_level(int level);  // mf::log::Level as int
void add_file(const std::string& path);
void write(int level, const char* data, size_t size);
void write_files(int level, const char* data, size_t size);  // to the added files only

}  // namespace mf::log::sink
