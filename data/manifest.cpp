// The `manifest` dataset: a CSV listing images with optional label, identity and face box.
#include "core/config/suggest.h"
#include "core/error.h"
#include "data/bad_files.h"
#include "data/builders.h"
#include "data/csv.h"
#include "data/dataset_options.h"
#include "data/file_dataset.h"

#include <charconv>
#include <map>
#include <set>
#include <sstream>

namespace mf::data {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kColumns = {"path", "label", "identity", "face_box"};

struct Manifest {
  std::vector<FileEntry> entries;
  std::vector<std::string> label_texts;  // per entry, resolved to indices once all are known
};

Box parse_box(const std::string& text, const std::string& where) {
  std::string t = text;
  std::replace(t.begin(), t.end(), ',', ' ');
  std::istringstream in(t);
  Box b;
  for (float& v : b) {
    if (!(in >> v)) fail_input("{}: face_box: expected 4 numbers x0,y0,x1,y1 in pixels, got '{}'", where, text);
  }
  std::string rest;
  if (in >> rest) fail_input("{}: face_box: expected 4 numbers x0,y0,x1,y1 in pixels, got '{}'", where, text);
  if (b[2] <= b[0] || b[3] <= b[1]) fail_input("{}: face_box: x1 must exceed x0 and y1 must exceed y0, got '{}'", where, text);
  return b;
}

Manifest read_manifest(const fs::path& csv) {
  auto rows = read_csv(csv);
  if (rows.empty()) fail_input("manifest '{}' is empty; it needs a header with at least a path column", csv.string());
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < rows[0].fields.size(); ++i) {
    const std::string& name = rows[0].fields[i];
    if (std::find(kColumns.begin(), kColumns.end(), name) == kColumns.end()) {
      fail_input("{}:1: unknown column '{}'; known: path, label, identity, face_box{}", csv.string(), name, config::did_you_mean(name, kColumns));
    }
    column[name] = i;
  }
  if (!column.count("path")) fail_input("{}:1: the header has no 'path' column", csv.string());
  Manifest m;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& f = rows[r].fields;
    const std::string where = fmt::format("{}:{}", csv.string(), rows[r].line);
    if (f.size() != rows[0].fields.size()) fail_input("{}: expected {} fields like the header, got {}", where, rows[0].fields.size(), f.size());
    auto get = [&](const char* name) { return column.count(name) ? f[column[name]] : std::string(); };
    if (get("path").empty()) fail_input("{}: path is empty", where);
    FileEntry e{csv.parent_path() / get("path")};
    e.identity = get("identity");
    if (!get("face_box").empty()) e.face_box = parse_box(get("face_box"), where);
    m.entries.push_back(std::move(e));
    m.label_texts.push_back(get("label"));
  }
  return m;
}

// Labels are class indices when every label is an integer, else class names (sorted).
std::vector<std::string> resolve_labels(std::vector<Manifest*> manifests) {
  bool numeric = true;
  std::set<std::string> names;
  for (auto* m : manifests) {
    for (const auto& t : m->label_texts) {
      if (t.empty()) continue;
      int64_t v;
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      numeric = numeric && ec == std::errc() && p == t.data() + t.size() && v >= 0;
      names.insert(t);
    }
  }
  std::vector<std::string> classes(names.begin(), names.end());
  for (auto* m : manifests) {
    for (size_t i = 0; i < m->entries.size(); ++i) {
      const std::string& t = m->label_texts[i];
      if (t.empty()) continue;
      m->entries[i].label = numeric ? std::stoll(t) : std::find(classes.begin(), classes.end(), t) - classes.begin();
    }
  }
  return numeric ? std::vector<std::string>{} : classes;
}

}  // namespace

DatasetSplits build_manifest(const DataConfig& config, uint64_t seed) {
  const auto& o = config.options.as<ManifestOptions>();
  if (o.csv.empty()) fail_input("data.csv: the manifest dataset needs a CSV file");
  auto bad = std::make_shared<BadFiles>(config.on_bad_file == "skip");
  Manifest train = read_manifest(o.csv);
  const std::string what = fmt::format("manifest '{}'", o.csv);
  if (!o.val_csv.empty()) {
    Manifest val = read_manifest(o.val_csv);
    auto classes = resolve_labels({&train, &val});
    return {std::make_shared<FileDataset>(std::move(train.entries), classes, bad, what, config.resize),
            std::make_shared<FileDataset>(std::move(val.entries), classes, bad, fmt::format("manifest '{}'", o.val_csv), config.resize), bad};
  }
  auto classes = resolve_labels({&train});
  return split_files(train.entries, classes, bad, what, config, seed);
}

}  // namespace mf::data
