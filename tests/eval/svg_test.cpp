// The report's scatter chart: every point's label readable where points crowd.
#include "eval/svg.h"

#include <gtest/gtest.h>

#include <regex>

namespace mf::eval {
namespace {

struct TextBox {
  double x0, y0, x1, y1;
};

// The labels' boxes as a reader sees them: 11 px text, ~6 px a character.
std::vector<TextBox> label_boxes(const std::string& svg) {
  std::vector<TextBox> boxes;
  const std::regex label(R"re(</circle><text x="([-0-9.]+)" y="([-0-9.]+)" text-anchor="(start|end)">([^<]*)</text>)re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), label); it != std::sregex_iterator(); ++it) {
    const double x = std::stod((*it)[1]), y = std::stod((*it)[2]), w = 6.0 * static_cast<double>((*it)[4].length());
    boxes.push_back((*it)[3] == "start" ? TextBox{x, y - 10, x + w, y + 2} : TextBox{x - w, y - 10, x, y + 2});
  }
  return boxes;
}

TEST(ScatterChart, LabelsOfCrowdedPointsNeitherOverlapNorLeaveTheChart) {
  std::vector<svg::Point> points = {{"pgd_8", 0.926, 8.0}, {"pgd_4", 0.978, 10.2}, {"pgd_2", 0.994, 12.6}};
  for (int i = 0; i < 6; ++i) points.push_back({"spam_full_8_ssim" + std::to_string(i), 0.950 + 0.001 * i, 25.0 + 0.4 * i});
  const std::vector<TextBox> boxes = label_boxes(svg::scatter("rn20 against SSIM", "SSIM", "accuracy", points));
  ASSERT_EQ(boxes.size(), points.size());
  for (size_t i = 0; i < boxes.size(); ++i) {
    EXPECT_GE(boxes[i].x0, 0) << points[i].label;
    EXPECT_LE(boxes[i].x1, 560) << points[i].label;
    for (size_t j = i + 1; j < boxes.size(); ++j) {
      const bool apart = boxes[i].x1 <= boxes[j].x0 || boxes[j].x1 <= boxes[i].x0 || boxes[i].y1 <= boxes[j].y0 || boxes[j].y1 <= boxes[i].y0;
      EXPECT_TRUE(apart) << points[i].label << " overlaps " << points[j].label;
    }
  }
}

}  // namespace
}  // namespace mf::eval
