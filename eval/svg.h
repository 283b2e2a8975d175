// Small self-contained SVG charts for the report: no scripts, no external resources.
#pragma once

#include <string>
#include <vector>

namespace mf::eval::svg {

struct Point {
  std::string label;
  double x = 0, y = 0;
};
// Labelled points on x/y axes.
std::string scatter(const std::string& title, const std::string& x_label, const std::string& y_label, const std::vector<Point>& points);

struct Series {
  std::string name;
  std::vector<double> values;  // one per group (NaN: no bar)
};
// Grouped bars: one group per `groups` entry, one bar per series in each.
std::string bars(const std::string& title, const std::vector<std::string>& groups, const std::vector<Series>& series, double y_max);

struct Line {
  std::string name;
  std::vector<double> x, y;
};
// Lines over a shared x axis (steps), each scaled to the chart.
std::string lines(const std::string& title, const std::vector<Line>& lines);

// Text with &, <, > and " escaped for HTML and SVG.
std::string escape(const std::string& text);

}  // namespace mf::eval::svg
