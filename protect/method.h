// How an image is protected: by an exported model (generator or UEP), run in overlapping
// tiles when the photo is large, or by per-image PGD against a config's victims.
#pragma once

#include "protection/pgd.h"

#include <torch/script.h>

#include <filesystem>
#include <memory>

namespace mf::protect {

class Method {
 public:
  virtual ~Method() = default;
  // The perturbation for one image [1, 3, H, W] in [0, 1], on the method's device.
  virtual at::Tensor perturbation(const at::Tensor& x) = 0;
  virtual std::string describe() const = 0;
};

// How an exported model handles large photos.
struct SizeOptions {
  // > 0: photos larger than this run through the model scaled down to it (antialiased), and
  // the perturbation is scaled back up (bilinear, so it stays within eps). Victims look at
  // photos resized to a few hundred pixels, so this keeps the protection at a fixed cost.
  double work_megapixels = 0;
  int64_t max_megapixels = 8;  // larger images (at the working size) are tiled
  int64_t tile = 1024;         // tile side in pixels
  int64_t overlap = 128;       // pixels shared by neighbouring tiles, blended
};

// An exported model; InputError when the file is not a maskforge export.
std::unique_ptr<Method> load_exported(const std::filesystem::path& file, SizeOptions sizes, const c10::Device& device);
// Per-image PGD with the victims, losses, eps and robustness of `config` (trainer options
// of a `pgd` config, else the defaults).
std::unique_ptr<Method> make_pgd(const protection::Config& config, const c10::Device& device);

// The perturbation computed tile by tile: tiles of `tile` pixels overlapping by `overlap`,
// blended with weights that fall linearly to the tile edges, so there are no seams.
at::Tensor tiled(const at::Tensor& x, int64_t tile, int64_t overlap, const std::function<at::Tensor(const at::Tensor&)>& fn);

}  // namespace mf::protect
