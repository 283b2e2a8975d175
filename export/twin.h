// Export of trained protections to TorchScript. The generator trains as a C++
// torch::nn::Module, which cannot be scripted, so export builds a TorchScript twin: a
// torch::jit::Module with one submodule per child of the generator, every parameter and
// buffer copied in by name (strictly), and methods compiled from TorchScript source:
//
//   forward(x)       -> the protected images clamp(x + perturbation(x), 0, 1), any size
//   perturbation(x)  -> the bounded perturbation eps * tanh(raw), or the UEP resized
//
// with attributes maskforge_kind, eps, arch, config_sha256, toolkit_version, run_name and
// guided. A guided generator's twin also carries its guide's victim networks (guide0, ...)
// and computes their input gradient itself, so it must be called with gradients enabled.
#pragma once

#include "losses/eps.h"
#include "networks/generator.h"
#include "networks/guide.h"
#include "protection/universal_perturbation.h"

#include <torch/script.h>

#include <filesystem>
#include <string>

namespace mf::exporting {

namespace fs = std::filesystem;

// What the export records about its run.
struct ExportInfo {
  std::string run_name;
  std::string config_sha256;
  double eps = 0;                   // the budget at the exported step
  losses::EpsConfig eps_config;     // for texture scaling, rebuilt in TorchScript
  std::vector<int64_t> train_size;  // [H, W] of the training images, empty when unknown
};

torch::jit::Module generator_twin(const networks::Generator& generator, const ExportInfo& info, const networks::Guide* guide = nullptr);
torch::jit::Module uep_twin(const protection::UniversalPerturbation& uep, const ExportInfo& info);

// Saves `twin` to `out` after checking that it, and the file reloaded with torch::jit::load,
// agree with `reference` (the trained module, on the same inputs) within `tolerance` on
// random images of two sizes. A disagreement is a RuntimeError: nothing is left at `out`.
void save_checked(torch::jit::Module& twin, const std::function<at::Tensor(const at::Tensor&)>& reference, const fs::path& out,
                  double tolerance = 1e-5);

// True when `module` is a maskforge export (it has the maskforge_kind attribute).
bool is_maskforge_export(const torch::jit::Module& module);
// True when a maskforge export needs gradients enabled to run (a guided generator).
bool needs_gradients(const torch::jit::Module& module);

}  // namespace mf::exporting
