// The results of an evaluation in its run folder: eval.json, eval.csv, a sample grid per
// protection (samples/<protection>.png) and report.html, self-contained (images inlined,
// charts in SVG, no network, no external scripts).
#pragma once

#include "eval/evaluation.h"

#include <filesystem>

namespace mf::eval {

void write_results(const EvalResult& result, const EvalConfig& config, const std::filesystem::path& run_dir);

// The summary printed at the end: one table per victim, protections x countermeasures of
// its headline metric, and the quality and cost of each protection.
std::string summary_tables(const EvalResult& result);

}  // namespace mf::eval
