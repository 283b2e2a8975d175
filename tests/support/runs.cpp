#include "tests/support/runs.h"

#include "checkpoints/manager.h"
#include "checkpoints/tensors.h"

namespace mf::test {

std::map<std::string, torch::Tensor> final_weights(const std::filesystem::path& run, const std::string& module) {
  return checkpoints::load_tensors(checkpoints::resolve_checkpoint(run).dir / (module + ".pt"));
}

}  // namespace mf::test
