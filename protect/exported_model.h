// The `model` method: an exported generator or UEP (maskforge export), applied to larger
// photos at the size it was trained at (or a chosen working size, or native resolution),
// in overlapping tiles when the photo is large.
#pragma once

#include "core/config/scalar.h"
#include "protect/method.h"

#include <torch/script.h>

#include <filesystem>
#include <functional>

namespace mf::protect {

struct ModelOptions {
  std::string path;
  // A number > 0: photos larger than this run through the model scaled down to it
  // (antialiased), and the perturbation is scaled back up (bilinear, so it stays within
  // eps). Victims look at photos resized to their input size, where a perturbation laid
  // out at full resolution averages away. "auto": the size of the generator's training
  // images (recorded in the export); "0": native resolution.
  std::string work_megapixels = "auto";
  int64_t max_megapixels = 8;  // larger images (at the working size) are tiled
  int64_t tile = 1024;         // tile side in pixels
  int64_t overlap = 128;       // pixels shared by neighbouring tiles, blended

  template <class V>
  void visit(V& v) {
    v("path", path, "the exported generator or UEP (maskforge export)");
    v("work_megapixels", work_megapixels,
      "run the model on larger photos scaled down to this many megapixels, the perturbation scaled up; auto: the size of the generator's "
      "training images (the scale it learned, and its victims see); 0: native resolution");
    v("max_megapixels", max_megapixels, "larger images are protected in overlapping tiles", config::at_least(1));
    v("tile", tile, "tile side in pixels", config::in_range(64, 16384));
    v("overlap", overlap, "pixels shared by neighbouring tiles, blended", config::in_range(0, 4096));
  }
  void validate() const {
    if (path.empty()) throw config::FieldError("path", "the model method needs `path`: an exported generator or UEP");
    if (overlap >= tile) throw config::FieldError("overlap", fmt::format("overlap ({}) must be smaller than tile ({})", overlap, tile));
    if (work_megapixels != "auto" && !(config::parse_number(work_megapixels).value_or(-1) >= 0)) {
      throw config::FieldError("work_megapixels", fmt::format("'{}' is neither auto nor a number of megapixels >= 0", work_megapixels));
    }
  }
};

class ExportedModel final : public Method {
 public:
  ExportedModel(torch::jit::Module module, ModelOptions options);
  // The bounded perturbation for x [N, 3, H, W].
  at::Tensor perturbation(const at::Tensor& x);
  at::Tensor protect(const at::Tensor& x, const std::vector<std::string>& ids) override;
  // A UEP is the same tensor for every image, so its owner can subtract it (pixels that
  // clipping moved stay off by what was clipped); a generator's perturbation cannot be undone.
  at::Tensor decode(const at::Tensor& protected_images, const std::vector<std::string>& ids) override;
  std::string describe() const override;
  const std::string& kind() const { return kind_; }  // generator or uep

 private:
  at::Tensor native(const at::Tensor& x);
  torch::jit::Module module_;
  ModelOptions options_;
  std::string kind_;
  double work_megapixels_ = 0;  // resolved; 0: native
};

// The exported model at options.path; InputError when the file is not a maskforge export.
std::unique_ptr<ExportedModel> load_exported(const ModelOptions& options, const c10::Device& device);

// The perturbation computed tile by tile: tiles of `tile` pixels overlapping by `overlap`,
// blended with weights that fall linearly to the tile edges, so there are no seams.
at::Tensor tiled(const at::Tensor& x, int64_t tile, int64_t overlap, const std::function<at::Tensor(const at::Tensor&)>& fn);

}  // namespace mf::protect
