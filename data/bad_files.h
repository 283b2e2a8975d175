// The `data.on_bad_file` policy: a file that cannot be used either stops the run (fail) or
// is skipped (skip): logged once with its path and reason, and counted for the metrics.
#pragma once

#include <atomic>
#include <mutex>
#include <set>
#include <string>

namespace mf::data {

class BadFiles {
 public:
  explicit BadFiles(bool skip) : skip_(skip) {}

  // Records that `source` cannot be used. Policy fail: throws InputError naming it.
  void report(const std::string& source, const std::string& reason);
  // Distinct files skipped so far.
  int64_t count() const { return count_.load(); }

 private:
  bool skip_;
  std::mutex mutex_;
  std::set<std::string> seen_;
  std::atomic<int64_t> count_{0};
};

}  // namespace mf::data
