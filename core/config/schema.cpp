#include "core/config/schema.h"

#include <cctype>

namespace mf::config {
namespace {

// Table cells must not break the Markdown table.
std::string cell(std::string s) {
  for (size_t p = 0; (p = s.find('|', p)) != std::string::npos; p += 2) s.replace(p, 1, "\\|");
  return s;
}

}  // namespace

std::string SchemaWriter::anchor(const std::string& title) {
  // GitHub's rule: lower-case, drop punctuation but '-' and '_', spaces become '-'.
  std::string a = "#";
  for (char c : title) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') a += static_cast<char>(std::tolower(c));
    else if (c == ' ') a += '-';
  }
  return a;
}

std::string render_markdown(const std::vector<SchemaWriter::Section>& sections, const std::string& preamble) {
  std::string md = preamble;
  for (const auto& section : sections) {
    md += fmt::format("\n## {}\n\n", section.title);
    if (!section.intro.empty()) md += section.intro + "\n\n";
    if (section.rows.empty()) continue;
    md += "| key | type | default | allowed | description |\n|---|---|---|---|---|\n";
    for (const auto& r : section.rows) {
      md += fmt::format("| `{}` | {} | {} | {} | {} |\n", r.key, r.type, cell(r.default_value), cell(r.allowed), cell(r.doc));
    }
  }
  return md;
}

}  // namespace mf::config
