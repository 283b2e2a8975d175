#include "data/csv.h"

#include "core/error.h"

#include <fstream>
#include <sstream>

namespace mf::data {

std::vector<CsvRow> read_csv(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_input("CSV file '{}' does not exist or cannot be read", path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();

  std::vector<CsvRow> rows;
  CsvRow row{1, {}};
  std::string field;
  bool quoted = false, row_has_content = false;
  int64_t line = 1;
  auto end_field = [&] {
    row.fields.push_back(std::move(field));
    field.clear();
  };
  auto end_row = [&] {
    end_field();
    if (row_has_content) rows.push_back(std::move(row));
    row = CsvRow{line, {}};
    row_has_content = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') quoted = row_has_content = true;
    else if (c == ',') end_field(), row_has_content = true;
    else if (c == '\n') {
      ++line;
      end_row();
    } else if (c != '\r') field += c, row_has_content = true;
  }
  if (quoted) fail_input("{}:{}: a quoted field is not closed", path.string(), row.line);
  end_row();
  return rows;
}

}  // namespace mf::data
