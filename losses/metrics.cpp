#include "losses/metrics.h"

#include <ATen/ATen.h>

#include <vector>

namespace mf::losses {

Metrics values(const StepMetrics& metrics) {
  Metrics out;
  std::map<std::string, std::vector<std::string>> names_by_device;
  for (const auto& [name, value] : metrics) names_by_device[value.device().str()].push_back(name);
  for (const auto& [device, names] : names_by_device) {
    std::vector<at::Tensor> column;
    for (const auto& name : names) column.push_back(metrics.at(name).detach().to(at::kDouble).reshape({}));
    const at::Tensor host = at::stack(column).cpu();
    const double* v = host.const_data_ptr<double>();
    for (size_t i = 0; i < names.size(); ++i) out[names[i]] = v[i];
  }
  return out;
}

at::Tensor host_metric(double value) { return at::scalar_tensor(value, at::kDouble); }

void add_scaled(StepMetrics& sum, const StepMetrics& metrics, double scale) {
  for (const auto& [name, value] : metrics) {
    at::Tensor scaled = value.detach().to(at::kDouble) * scale;
    auto it = sum.find(name);
    if (it == sum.end()) sum.emplace(name, scaled);
    else it->second = it->second + scaled;
  }
}

}  // namespace mf::losses
