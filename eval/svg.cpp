#include "eval/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mf::eval::svg {
namespace {

constexpr double kWidth = 560, kHeight = 300, kLeft = 56, kRight = 16, kTop = 32, kBottom = 64;
const std::vector<std::string> kColours = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

const std::string& colour(size_t i) { return kColours[i % kColours.size()]; }

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  // Never empty or degenerate.
  Range padded() const {
    Range r = *this;
    if (!std::isfinite(r.lo)) r.lo = 0, r.hi = 1;
    if (r.hi - r.lo < 1e-12) r.lo -= 0.5, r.hi += 0.5;
    return r;
  }
};

std::string open(const std::string& title, double height = kHeight) {
  return fmt::format(R"svg(<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" viewBox="0 0 {0} {1}" font-family="sans-serif" font-size="11">)svg"
                     R"svg(<text x="{2}" y="18" font-size="13" font-weight="bold">{3}</text>)svg",
                     kWidth, height, kLeft, escape(title));
}

// Axis lines with min and max ticks on y.
std::string axes(const Range& y, const std::string& y_label) {
  const double bottom = kHeight - kBottom;
  return fmt::format(R"svg(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#333"/><line x1="{0}" y1="{2}" x2="{3}" y2="{2}" stroke="#333"/>)svg"
                     R"svg(<text x="{4}" y="{1}" text-anchor="end" dy="4">{5:.3g}</text><text x="{4}" y="{2}" text-anchor="end" dy="4">{6:.3g}</text>)svg"
                     R"svg(<text x="12" y="{7}" transform="rotate(-90 12 {7})" text-anchor="middle">{8}</text>)svg",
                     kLeft, kTop, bottom, kWidth - kRight, kLeft - 4, y.hi, y.lo, (kTop + bottom) / 2, escape(y_label));
}

// An axis-aligned rectangle in chart pixels.
struct Box {
  double x0, y0, x1, y1;
  static Box around(double x, double y, double r) { return {x - r, y - r, x + r, y + r}; }
  double overlap(const Box& o) const { return std::max(0.0, std::min(x1, o.x1) - std::max(x0, o.x0)) * std::max(0.0, std::min(y1, o.y1) - std::max(y0, o.y0)); }
};

struct Label {
  double x, y;
  const char* anchor;
  Box box;
  bool leader;  // set further than the rows just above and below its dot: a line joins them
};

// Where a point's label goes: the first of a few spots beside the dot, nearest first, that
// covers no other dot or label and stays inside the chart; where points crowd so that none is
// free, the spot that covers least. Text width is estimated (11 px sans-serif, ~6 px a character).
Label place_label(double x, double y, const std::string& text, const std::vector<Box>& taken) {
  const double width = 6.0 * static_cast<double>(text.size());
  const Box chart{0, kTop - 12, kWidth, kHeight - kBottom};
  Label best{};
  double best_cost = std::numeric_limits<double>::infinity();
  constexpr double kRows[] = {-6, 14, -20, 28, -34, 42, -48, 56, -62, 70};  // offsets of the text baseline from the dot
  for (size_t row = 0; row < std::size(kRows); ++row) {
    for (bool left : {false, true}) {
      const double tx = left ? x - 7 : x + 7, ty = y + kRows[row];
      const Label l{tx, ty, left ? "end" : "start", {left ? tx - width : tx, ty - 10, left ? tx : tx + width, ty + 2}, row >= 2};
      double cost = (l.box.x1 - l.box.x0) * (l.box.y1 - l.box.y0) - l.box.overlap(chart);  // the part outside the chart
      for (const auto& b : taken) cost += l.box.overlap(b);
      if (cost == 0) return l;
      if (cost < best_cost) best = l, best_cost = cost;
    }
  }
  return best;
}

double to_x(double v, const Range& r) { return kLeft + (v - r.lo) / (r.hi - r.lo) * (kWidth - kLeft - kRight); }
double to_y(double v, const Range& r) { return kHeight - kBottom - (v - r.lo) / (r.hi - r.lo) * (kHeight - kTop - kBottom); }

}  // namespace

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string scatter(const std::string& title, const std::string& x_label, const std::string& y_label, const std::vector<Point>& points) {
  Range xr, yr;
  for (const auto& p : points) xr.add(p.x), yr.add(p.y);
  xr = xr.padded(), yr = yr.padded();
  std::string s = open(title) + axes(yr, y_label);
  const double bottom = kHeight - kBottom;
  s += fmt::format(R"svg(<text x="{}" y="{}" text-anchor="start">{:.3g}</text><text x="{}" y="{}" text-anchor="end">{:.3g}</text>)svg", kLeft, bottom + 14, xr.lo,
                   kWidth - kRight, bottom + 14, xr.hi);
  s += fmt::format(R"svg(<text x="{}" y="{}" text-anchor="middle">{}</text>)svg", (kLeft + kWidth - kRight) / 2, bottom + 30, escape(x_label));
  std::vector<Box> taken;  // every point's dot, then each label as it is placed
  for (const auto& p : points) {
    if (std::isfinite(p.x) && std::isfinite(p.y)) taken.push_back(Box::around(to_x(p.x, xr), to_y(p.y, yr), 5));
  }
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
    const double x = to_x(p.x, xr), y = to_y(p.y, yr);
    const Label label = place_label(x, y, p.label, taken);
    taken.push_back(label.box);
    if (label.leader) {
      s += fmt::format(R"svg(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#999" stroke-width="0.7"/>)svg", x, y, label.x, label.y - 4);
    }
    s += fmt::format(R"svg(<circle cx="{:.1f}" cy="{:.1f}" r="5" fill="{}"><title>{}: {:.4g}, {:.4g}</title></circle><text x="{:.1f}" y="{:.1f}" text-anchor="{}">{}</text>)svg",
                     x, y, colour(i), escape(p.label), p.x, p.y, label.x, label.y, label.anchor, escape(p.label));
  }
  return s + "</svg>";
}

std::string bars(const std::string& title, const std::vector<std::string>& groups, const std::vector<Series>& series, double y_max) {
  const Range yr{0, y_max > 0 ? y_max : 1};
  std::string s = open(title, kHeight + 16 * static_cast<double>((series.size() + 2) / 3)) + axes(yr, "");
  const double slot = (kWidth - kLeft - kRight) / static_cast<double>(std::max<size_t>(1, groups.size()));
  const double bar = slot * 0.8 / static_cast<double>(std::max<size_t>(1, series.size()));
  for (size_t g = 0; g < groups.size(); ++g) {
    const double x0 = kLeft + slot * static_cast<double>(g) + slot * 0.1;
    for (size_t k = 0; k < series.size(); ++k) {
      const double v = g < series[k].values.size() ? series[k].values[g] : NAN;
      if (!std::isfinite(v)) continue;
      const double top = to_y(std::clamp(v, 0.0, yr.hi), yr);
      s += fmt::format(R"svg(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"><title>{} / {}: {:.4g}</title></rect>)svg", x0 + bar * static_cast<double>(k),
                       top, std::max(bar - 1, 1.0), kHeight - kBottom - top, colour(k), escape(groups[g]), escape(series[k].name), v);
    }
    s += fmt::format(R"svg(<text x="{:.1f}" y="{}" text-anchor="middle">{}</text>)svg", x0 + slot * 0.4, kHeight - kBottom + 14, escape(groups[g]));
  }
  for (size_t k = 0; k < series.size(); ++k) {  // legend
    const double x = kLeft + 165 * static_cast<double>(k % 3), y = kHeight - kBottom + 34 + 16 * static_cast<double>(k / 3);
    s += fmt::format(R"svg(<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{}</text>)svg", x, y - 9, colour(k), x + 14, y, escape(series[k].name));
  }
  return s + "</svg>";
}

std::string lines(const std::string& title, const std::vector<Line>& lines) {
  Range xr;
  for (const auto& l : lines) {
    for (double x : l.x) xr.add(x);
  }
  xr = xr.padded();
  std::string s = open(title, kHeight + 16 * static_cast<double>(lines.size()));
  const double bottom = kHeight - kBottom;
  s += fmt::format(R"svg(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#333"/><line x1="{0}" y1="{2}" x2="{3}" y2="{2}" stroke="#333"/>)svg", kLeft, kTop, bottom,
                   kWidth - kRight);
  s += fmt::format(R"svg(<text x="{}" y="{}">step {:.0f}</text><text x="{}" y="{}" text-anchor="end">{:.0f}</text>)svg", kLeft, bottom + 14, xr.lo, kWidth - kRight,
                   bottom + 14, xr.hi);
  for (size_t k = 0; k < lines.size(); ++k) {
    // Each line on its own scale (losses and accuracies differ by orders of magnitude); the
    // legend gives its range.
    Range yr;
    for (double y : lines[k].y) yr.add(y);
    yr = yr.padded();
    std::string points;
    for (size_t i = 0; i < lines[k].x.size() && i < lines[k].y.size(); ++i) {
      if (std::isfinite(lines[k].y[i])) points += fmt::format("{:.1f},{:.1f} ", to_x(lines[k].x[i], xr), to_y(lines[k].y[i], yr));
    }
    s += fmt::format(R"svg(<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>)svg", colour(k), points);
    const double x = kLeft, y = bottom + 34 + 16 * static_cast<double>(k);
    s += fmt::format(R"svg(<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{} ({:.3g} to {:.3g})</text>)svg", x, y - 9, colour(k), x + 14, y,
                     escape(lines[k].name), yr.lo, yr.hi);
  }
  return s + "</svg>";
}

}  // namespace mf::eval::svg
