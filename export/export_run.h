// `maskforge export`: a trained run (or one of its checkpoints) to a TorchScript file.
#pragma once

#include <filesystem>
#include <string>

namespace mf::exporting {

struct Exported {
  std::filesystem::path file;     // the TorchScript module
  std::filesystem::path picture;  // a PNG of the universal perturbation (uep runs only)
  std::string kind;               // generator or uep
  double eps = 0;
  int64_t step = 0;
};

// Exports the newest valid checkpoint of a run folder, or the given checkpoint, to `out`.
Exported export_run(const std::filesystem::path& run_or_checkpoint, const std::filesystem::path& out);

}  // namespace mf::exporting
