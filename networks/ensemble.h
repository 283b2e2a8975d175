// VictimEnsemble: the frozen victims a protection is trained against, built from the
// config's `victims` list.
#pragma once

#include "networks/victim.h"

#include <memory>
#include <string>
#include <vector>

namespace mf::networks {

class VictimEnsemble {
 public:
  VictimEnsemble(const std::vector<VictimConfig>& configs, const c10::Device& device);

  const std::vector<std::shared_ptr<Victim>>& victims() const { return victims_; }
  // The victim named `name`; an InputError listing the names when there is none.
  const std::shared_ptr<Victim>& at(const std::string& name) const;
  // A table: name, kind, input size, parameters, weight.
  std::string summary() const;

 private:
  std::vector<std::shared_ptr<Victim>> victims_;
};

// A table of rows of cells, columns padded to their widest cell.
std::string format_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace mf::networks
