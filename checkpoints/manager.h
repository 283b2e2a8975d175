// CheckpointManager: the checkpoints of one run folder. A checkpoint is a step folder
// written under a temporary name, flushed, renamed, and committed by its manifest.json
// (format version, step, each file's size and SHA-256), written last. Only committed
// checkpoints whose files match their manifest are ever resumed from. The last K are kept,
// plus milestones; `latest` links to the newest.
//
//   runs/<name>/checkpoints/step_000500/{model.pt, optimizer.pt, state.json, ..., manifest.json}
//   runs/<name>/checkpoints/latest -> step_000500
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mf::checkpoints {

namespace fs = std::filesystem;

inline constexpr int64_t kFormatVersion = 1;

struct Checkpoint {
  fs::path dir;
  int64_t step = 0;
  bool milestone = false;
};

class CheckpointManager {
 public:
  CheckpointManager(fs::path checkpoints_dir, int64_t keep_last);

  // Writes a checkpoint: `write` fills the (temporary) folder it is given; the manager then
  // commits it and prunes old ones. Returns the committed folder.
  fs::path save(int64_t step, const std::function<void(const fs::path& dir)>& write, bool milestone = false);

  // Committed checkpoints, oldest first (manifests read, files not verified).
  std::vector<Checkpoint> list() const;
  // The newest checkpoint whose files match its manifest; corrupted ones are skipped with
  // a warning naming them.
  std::optional<Checkpoint> newest_valid() const;

 private:
  void prune();
  fs::path dir_;
  int64_t keep_last_;
};

// Checks a committed checkpoint folder against its manifest; the reason when it fails.
std::optional<std::string> verify(const fs::path& dir);

// The checkpoint folder that `path` means: a checkpoint folder, a run folder (its newest
// valid checkpoint) or a run's checkpoints folder. InputError when there is none or it is
// corrupted.
Checkpoint resolve_checkpoint(const fs::path& path);

}  // namespace mf::checkpoints
