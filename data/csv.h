// Reading CSV files (RFC 4180: comma-separated, fields optionally in double quotes).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mf::data {

struct CsvRow {
  int64_t line = 0;  // 1-based line in the file, for messages
  std::vector<std::string> fields;
};

// All rows, the header first. A missing file or an unterminated quote is an InputError.
std::vector<CsvRow> read_csv(const std::filesystem::path& path);

}  // namespace mf::data
