#include "eval/report.h"

#include "checkpoints/files.h"
#include "data/image_io.h"
#include "eval/svg.h"
#include "networks/ensemble.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <set>

namespace mf::eval {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json metrics_json(const Metrics& m) {
  json j = json::object();
  for (const auto& [k, v] : m) j[k] = number(v);
  return j;
}

json results_json(const EvalResult& r, const EvalConfig& c) {
  json j = {{"name", c.run.name}, {"images", r.images}, {"dataset", c.images.dataset}, {"countermeasures", r.countermeasures}};
  for (const auto& p : r.protections) {
    j["protections"].push_back({{"name", p.name},
                                {"method", p.method},
                                {"description", p.description},
                                {"quality", metrics_json(p.quality)},
                                {"ms_per_image", number(p.ms_per_image)},
                                {"megapixels_per_s", number(p.megapixels_per_s)}});
  }
  for (const auto& v : r.victims) {
    j["victims"].push_back({{"name", v.name}, {"kind", v.kind}, {"headline", v.headline}, {"lower_is_better", v.lower_is_better}, {"adaptive", v.adaptive}});
  }
  for (const auto& cell : r.cells) {
    j["cells"].push_back({{"protection", cell.protection}, {"countermeasure", cell.countermeasure}, {"victim", cell.victim}, {"metrics", metrics_json(cell.metrics)}});
  }
  return j;
}

std::string results_csv(const EvalResult& r) {
  std::string s = "protection,countermeasure,victim,metric,value\n";
  for (const auto& p : r.protections) {
    for (const auto& [k, v] : p.quality) s += fmt::format("{},,,{},{:.6g}\n", p.name, k, v);
    s += fmt::format("{},,,ms_per_image,{:.6g}\n{},,,megapixels_per_s,{:.6g}\n", p.name, p.ms_per_image, p.name, p.megapixels_per_s);
  }
  for (const auto& cell : r.cells) {
    for (const auto& [k, v] : cell.metrics) s += fmt::format("{},{},{},{},{:.6g}\n", cell.protection, cell.countermeasure, cell.victim, k, v);
  }
  return s;
}

// Rows of samples: original | protected | perturbation (amplified) | after each countermeasure.
at::Tensor sample_grid(const EvalResult& r, const std::string& protection) {
  const at::Tensor& x = r.samples.original;
  const at::Tensor& y = r.samples.protected_images.at(protection);
  const at::Tensor delta = y - x;
  const double amplitude = std::max(delta.abs().max().item<double>(), 1.0 / 255);
  std::vector<at::Tensor> columns{x, y, (delta / (2 * amplitude) + 0.5).clamp(0, 1)};
  for (const auto& c : r.countermeasures) {
    if (c != "none") columns.push_back(r.samples.after_countermeasure.at({protection, c}));
  }
  // Small images are enlarged (nearest) so that they can be looked at.
  const int64_t scale = std::max<int64_t>(1, 96 / std::max<int64_t>(1, x.size(2)));
  std::vector<at::Tensor> rows;
  for (int64_t i = 0; i < x.size(0); ++i) {
    std::vector<at::Tensor> row;
    for (const auto& column : columns) {
      at::Tensor img = column[i].unsqueeze(0);
      if (scale > 1) img = at::upsample_nearest2d(img, {img.size(2) * scale, img.size(3) * scale});
      row.push_back(img[0]);
      row.push_back(at::ones({3, img.size(2), 4}));
    }
    row.pop_back();
    rows.push_back(at::cat(row, 2));
    rows.push_back(at::ones({3, 4, rows.back().size(2)}));
  }
  rows.pop_back();
  return at::cat(rows, 1);
}

std::string png_base64(const fs::path& png) {
  std::ifstream in(png, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string value_text(double v) { return std::isfinite(v) ? fmt::format("{:.3f}", v) : "-"; }

double metric_of(const EvalResult& r, const std::string& p, const std::string& c, const std::string& v, const std::string& metric) {
  const Cell* cell = r.cell(p, c, v);
  if (!cell) return NAN;
  auto it = cell->metrics.find(metric);
  return it == cell->metrics.end() ? NAN : it->second;
}

std::string victim_section(const EvalResult& r, const VictimResult& v) {
  using svg::escape;
  std::string s = fmt::format("<h3 id=\"victim-{0}\">{0} <small>({1}{2})</small></h3>\n<p>{3}: {4}.</p>\n", escape(v.name), escape(v.kind),
                              v.adaptive ? ", fine-tuned by the adaptive attacker on each protection it faces" : "", escape(v.headline),
                              v.lower_is_better ? "lower means better protected" : "higher means better protected");
  s += "<table class=\"sortable\"><thead><tr><th>protection</th>";
  for (const auto& c : r.countermeasures) s += "<th>" + escape(c) + "</th>";
  s += "</tr></thead><tbody>\n";
  std::vector<svg::Series> series;
  for (const auto& c : r.countermeasures) series.push_back({c, {}});
  std::vector<std::string> groups;
  std::set<std::string> metrics;
  for (const auto& p : r.protections) {
    if (!r.cell(p.name, r.countermeasures[0], v.name)) continue;
    groups.push_back(p.name);
    s += "<tr><td>" + escape(p.name) + "</td>";
    for (size_t ci = 0; ci < r.countermeasures.size(); ++ci) {
      const double value = metric_of(r, p.name, r.countermeasures[ci], v.name, v.headline);
      series[ci].values.push_back(value);
      s += fmt::format("<td data-cell=\"{}|{}|{}|{}\">{}</td>", escape(p.name), escape(r.countermeasures[ci]), escape(v.name), escape(v.headline), value_text(value));
      if (const Cell* cell = r.cell(p.name, r.countermeasures[ci], v.name)) {
        for (const auto& [k, x] : cell->metrics) metrics.insert(k);
      }
    }
    s += "</tr>\n";
  }
  s += "</tbody></table>\n";
  s += "<details><summary>every metric</summary><table class=\"sortable\"><thead><tr><th>protection</th><th>countermeasure</th>";
  for (const auto& m : metrics) s += "<th>" + escape(m) + "</th>";
  s += "</tr></thead><tbody>\n";
  for (const auto& p : groups) {
    for (const auto& c : r.countermeasures) {
      s += "<tr><td>" + escape(p) + "</td><td>" + escape(c) + "</td>";
      for (const auto& m : metrics) {
        s += fmt::format("<td data-cell=\"{}|{}|{}|{}\">{}</td>", escape(p), escape(c), escape(v.name), escape(m), value_text(metric_of(r, p, c, v.name, m)));
      }
      s += "</tr>\n";
    }
  }
  s += "</tbody></table></details>\n";
  double top = 1;
  for (const auto& se : series) {
    for (double x : se.values) {
      if (std::isfinite(x)) top = std::max(top, x);
    }
  }
  s += "<div class=\"chart\">" + svg::bars(v.name + ": " + v.headline + " per countermeasure", groups, series, top) + "</div>\n";
  return s;
}

std::string quality_section(const EvalResult& r) {
  using svg::escape;
  const std::vector<std::string> keys = {"ssim", "psnr", "linf_255", "l2", "lpips"};
  std::string s = "<table class=\"sortable\"><thead><tr><th>protection</th><th>method</th>";
  for (const auto& k : keys) s += "<th>" + k + "</th>";
  s += "<th>ms per image</th><th>megapixels/s</th></tr></thead><tbody>\n";
  for (const auto& p : r.protections) {
    s += "<tr><td title=\"" + escape(p.description) + "\">" + escape(p.name) + "</td><td>" + escape(p.method) + "</td>";
    for (const auto& k : keys) {
      auto it = p.quality.find(k);
      s += fmt::format("<td data-quality=\"{}|{}\">{}</td>", escape(p.name), k, it == p.quality.end() ? "-" : value_text(it->second));
    }
    s += fmt::format("<td data-quality=\"{}|ms_per_image\">{:.3f}</td><td data-quality=\"{}|megapixels_per_s\">{:.3f}</td></tr>\n", escape(p.name), p.ms_per_image,
                     escape(p.name), p.megapixels_per_s);
  }
  s += "</tbody></table>\n";
  // Protection against quality: one chart per victim and countermeasure (a protection that
  // holds only until the photo is saved as a JPEG shows it in the second one).
  for (const auto& v : r.victims) {
    if (v.adaptive) continue;
    for (const auto& c : r.countermeasures) {
      std::vector<svg::Point> points;
      for (const auto& p : r.protections) {
        auto it = p.quality.find("ssim");
        points.push_back({p.name, it == p.quality.end() ? NAN : it->second, metric_of(r, p.name, c, v.name, v.headline)});
      }
      s += "<div class=\"chart\">" + svg::scatter(v.name + ": " + v.headline + " (" + c + ") against SSIM", "SSIM", v.headline, points) + "</div>\n";
    }
  }
  return s;
}

// Curves of a training run's metrics.jsonl: the losses, eps and the validation accuracies.
std::string curves_section(const fs::path& run) {
  std::ifstream in(run / "metrics.jsonl");
  if (!in) return fmt::format("<p>{}: no metrics.jsonl.</p>\n", svg::escape(run.string()));
  std::map<std::string, svg::Line> lines;
  for (std::string text; std::getline(in, text);) {
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.contains("step")) continue;
    for (const auto& [k, v] : j.items()) {
      const bool wanted = k == "loss/total" || k == "loss/adversarial" || k == "loss/quality" || k == "eps" || k == "lr" ||
                          (k.starts_with("val/") && (k.ends_with("accuracy") || k.ends_with("rate") || k == "val/ssim"));
      if (!wanted || !v.is_number()) continue;
      auto& line = lines[k];
      line.name = k;
      line.x.push_back(j["step"].get<double>());
      line.y.push_back(v.get<double>());
    }
  }
  std::vector<svg::Line> training, validation;
  for (auto& [k, l] : lines) (k.starts_with("val/") ? validation : training).push_back(l);
  std::string s;
  if (!training.empty()) s += "<div class=\"chart\">" + svg::lines(run.filename().string() + ": training", training) + "</div>";
  if (!validation.empty()) s += "<div class=\"chart\">" + svg::lines(run.filename().string() + ": validation", validation) + "</div>";
  return s.empty() ? fmt::format("<p>{}: metrics.jsonl has no curves.</p>\n", svg::escape(run.string())) : s + "\n";
}

constexpr const char* kStyle = R"css(body{font-family:sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f2f2f2;cursor:pointer}td:first-child,th:first-child{text-align:left}
.chart{display:inline-block;margin:4px}img{image-rendering:pixelated;max-width:100%}small{color:#666;font-weight:normal})css";

// Sorting any table by a click on its header: the only script, self-contained.
constexpr const char* kScript = R"js(document.querySelectorAll('table.sortable th').forEach(function (th, column) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var up = th.dataset.order !== 'up';
    th.dataset.order = up ? 'up' : 'down';
    var key = function (row) { var t = row.cells[column].textContent; var n = parseFloat(t); return isNaN(n) ? t : n; };
    rows.sort(function (a, b) { var x = key(a), y = key(b); return (x > y ? 1 : x < y ? -1 : 0) * (up ? 1 : -1); });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});)js";

std::string html(const EvalResult& r, const EvalConfig& c, const fs::path& run_dir) {
  using svg::escape;
  std::string s = fmt::format("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>maskforge evaluation: {0}</title><style>{1}</style></head><body>\n"
                              "<h1>maskforge evaluation: {0}</h1>\n<p>{2} images ({3}); protected images rounded to 8 bits as they are saved; "
                              "countermeasures: {4}.</p>\n",
                              escape(c.run.name), kStyle, r.images, escape(c.images.dataset), escape(fmt::format("{}", fmt::join(r.countermeasures, ", "))));
  s += "<h2>Protection, per victim</h2>\n";
  for (const auto& v : r.victims) s += victim_section(r, v);
  s += "<h2>Quality and cost</h2>\n" + quality_section(r);
  if (!c.report.runs.empty()) {
    s += "<h2>Training curves</h2>\n";
    for (const auto& run : c.report.runs) s += curves_section(run);
  }
  s += "<h2>Samples</h2>\n<p>Each row: original | protected | perturbation (amplified) | after each countermeasure";
  for (const auto& cm : r.countermeasures) {
    if (cm != "none") s += " (" + escape(cm) + ")";
  }
  s += ".</p>\n";
  for (const auto& p : r.protections) {
    s += fmt::format("<h3>{}</h3><img alt=\"samples of {}\" src=\"data:image/png;base64,{}\">\n", escape(p.name), escape(p.name),
                     png_base64(run_dir / "samples" / (p.name + ".png")));
  }
  return s + "<script>" + kScript + "</script>\n</body></html>\n";
}

}  // namespace

void write_results(const EvalResult& r, const EvalConfig& c, const fs::path& run_dir) {
  fs::create_directories(run_dir / "samples");
  checkpoints::write_file_atomic(run_dir / "eval.json", results_json(r, c).dump(2) + "\n");
  checkpoints::write_file_atomic(run_dir / "eval.csv", results_csv(r));
  for (const auto& p : r.protections) data::write_image(run_dir / "samples" / (p.name + ".png"), sample_grid(r, p.name));
  checkpoints::write_file_atomic(run_dir / "report.html", html(r, c, run_dir));
}

std::string summary_tables(const EvalResult& r) {
  std::string s;
  for (const auto& v : r.victims) {
    std::vector<std::vector<std::string>> rows{{fmt::format("{} ({})", v.name, v.headline)}};
    for (const auto& c : r.countermeasures) rows[0].push_back(c);
    for (const auto& p : r.protections) {
      if (!r.cell(p.name, r.countermeasures[0], v.name)) continue;
      std::vector<std::string> row{p.name};
      for (const auto& c : r.countermeasures) row.push_back(value_text(metric_of(r, p.name, c, v.name, v.headline)));
      rows.push_back(row);
    }
    s += networks::format_table(rows) + "\n";
  }
  std::vector<std::vector<std::string>> rows{{"protection", "SSIM", "PSNR", "L-inf (/255)", "ms/image"}};
  for (const auto& p : r.protections) {
    auto q = [&](const char* k) { auto it = p.quality.find(k); return it == p.quality.end() ? std::string("-") : fmt::format("{:.3f}", it->second); };
    rows.push_back({p.name, q("ssim"), q("psnr"), q("linf_255"), fmt::format("{:.2f}", p.ms_per_image)});
  }
  return s + networks::format_table(rows);
}

}  // namespace mf::eval
