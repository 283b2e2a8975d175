// SchemaWriter: the Markdown reference of every config field (docs/config.md), written
// from the same declarations that the reader and the writer use.
#pragma once

#include "core/config/check.h"
#include "core/config/options.h"
#include "core/config/scalar.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mf::config {

class SchemaWriter {
 public:
  struct Row {
    std::string key, type, default_value, allowed, doc;
  };
  struct Section {
    std::string title, intro;
    std::vector<Row> rows;
  };

  // Rows go to sections[index]; nested sections are appended to `sections`.
  SchemaWriter(std::vector<Section>& sections, size_t index, std::string path)
      : sections_(sections), index_(index), path_(std::move(path)) {}

  template <class T>
  void operator()(std::string_view key, T& value, std::string_view doc, const Check& check = {}) {
    Row row{std::string(key), type_name<T>(), "", check.describe(), std::string(doc)};
    if constexpr (requires(T t, SchemaWriter& s) { t.visit(s); }) {
      row.type = "section";
      row.allowed = "see " + link(nested(child(key), value, std::string(doc)));
    } else if constexpr (requires { typename T::value_type; } && !std::is_same_v<T, std::string> &&
                         requires(typename T::value_type t, SchemaWriter& s) { t.visit(s); }) {
      row.type = "list of sections";
      typename T::value_type element{};
      row.allowed = "each: see " + link(nested(child(key) + "[]", element, std::string(doc)));
    } else {
      row.default_value = text(value);
    }
    add(std::move(row));
  }

  template <class R>
  void kind(std::string_view key, std::string& name, Options& options, const R& registry, std::string_view doc) {
    std::vector<std::string> links;
    for (const auto& entry : registry.entries()) {
      Options o = entry.options();
      std::string title = fmt::format("{} = {}", child(key), entry.name);
      sections_.push_back({title, entry.doc, {}});
      size_t index = sections_.size() - 1;
      SchemaWriter sub(sections_, index, path_);
      o.visit(sub);
      if (sections_[index].rows.empty()) sections_[index].intro += " No options of its own.";
      links.push_back(fmt::format("[{}]({})", entry.name, anchor(title)));
    }
    add({std::string(key), "string", "`" + name + "`", "one of: " + fmt::format("{}", fmt::join(links, ", ")), std::string(doc)});
  }

  static std::string anchor(const std::string& title);

 private:
  std::string child(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }
  static std::string link(const std::string& title) { return fmt::format("[{}]({})", title, anchor(title)); }
  void add(Row row) { sections_[index_].rows.push_back(std::move(row)); }

  template <class T>
  std::string nested(const std::string& title, T& value, std::string intro) {
    sections_.push_back({title, std::move(intro), {}});
    SchemaWriter sub(sections_, sections_.size() - 1, title);
    value.visit(sub);
    return title;
  }

  template <class T>
  static std::string text(const T& value) {
    if constexpr (std::is_same_v<T, std::string>) return value.empty() ? "\"\"" : "`" + value + "`";
    else if constexpr (std::is_arithmetic_v<T>) return "`" + format(value) + "`";
    else if constexpr (std::is_same_v<T, std::map<std::string, double>>) return value.empty() ? "`{}`" : "(set)";
    else {
      std::vector<std::string> items;
      for (const auto& x : value) {
        if constexpr (std::is_same_v<typename T::value_type, std::string>) items.push_back(x);
        else items.push_back(format(x));
      }
      return "`[" + fmt::format("{}", fmt::join(items, ", ")) + "]`";
    }
  }

  std::vector<Section>& sections_;
  size_t index_;
  std::string path_;
};

// The whole reference as Markdown.
std::string render_markdown(const std::vector<SchemaWriter::Section>& sections, const std::string& preamble);

template <class C>
std::string schema_markdown(C config, const std::string& preamble) {
  std::vector<SchemaWriter::Section> sections{{"top level", "", {}}};
  SchemaWriter writer(sections, 0, "");
  config.visit(writer);
  return render_markdown(sections, preamble);
}

}  // namespace mf::config
