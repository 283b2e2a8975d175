// Metrics: named numbers that a step, a validation or an evaluation reports. A training
// step's loss terms report 0-d tensors, on the device that computed them (StepMetrics):
// reading one on the host waits for the device, so the training loop reads them together
// (values()), and only at the steps that it logs.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>

namespace mf::losses {

using Metrics = std::map<std::string, double>;
using StepMetrics = std::map<std::string, at::Tensor>;

// Every metric on the host, in double precision: one device-to-host copy per device.
Metrics values(const StepMetrics& metrics);
// A metric that is already a host number, as a StepMetrics entry.
at::Tensor host_metric(double value);
// sum[k] += metrics[k] * scale for every k of `metrics` (metrics are never part of a graph).
void add_scaled(StepMetrics& sum, const StepMetrics& metrics, double scale);

}  // namespace mf::losses
