#include "data/bad_files.h"

#include "core/error.h"
#include "core/log.h"

namespace mf::data {

void BadFiles::report(const std::string& source, const std::string& reason) {
  if (!skip_) fail_input("'{}' {} (data.on_bad_file is fail; set it to skip to train without it)", source, reason);
  std::lock_guard lock(mutex_);
  if (seen_.insert(source).second) {
    ++count_;
    log::warn("skipping '{}': it {}", source, reason);
  }
}

}  // namespace mf::data
