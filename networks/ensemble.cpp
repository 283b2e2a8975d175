#include "networks/ensemble.h"

#include "core/error.h"

namespace mf::networks {

VictimEnsemble::VictimEnsemble(const std::vector<VictimConfig>& configs, const c10::Device& device) {
  for (const auto& c : configs) victims_.push_back(build_victim(resolve_victim(c), device));
}

const std::shared_ptr<Victim>& VictimEnsemble::at(const std::string& name) const {
  for (const auto& v : victims_) {
    if (v->name() == name) return v;
  }
  std::vector<std::string> names;
  for (const auto& v : victims_) names.push_back(v->name());
  fail_input("no victim is named '{}'; victims: {}", name, fmt::join(names, ", "));
}

std::string VictimEnsemble::summary() const {
  std::vector<std::vector<std::string>> rows{{"victim", "kind", "input", "params", "weight"}};
  for (const auto& v : victims_) {
    const auto& c = v->config();
    rows.push_back({v->name(), c.kind, fmt::format("{}x{}", c.input_size[0], c.input_size[1]),
                    fmt::format("{:.2f} M", static_cast<double>(v->parameter_count()) / 1e6), fmt::format("{:g}", v->weight())});
  }
  return format_table(rows);
}

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) out += i + 1 < r.size() ? fmt::format("{:<{}}  ", r[i], width[i]) : r[i];
    out += '\n';
  }
  return out;
}

}  // namespace mf::networks
