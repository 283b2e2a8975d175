#include "protect/exported_model.h"

#include "core/error.h"
#include "export/twin.h"

#include <ATen/ATen.h>

namespace mf::protect {
namespace {

// 1 inside, falling linearly to 1/(overlap + 1) over the `overlap` pixels at an edge that
// borders another tile; flat at the image's own edges.
at::Tensor ramp(int64_t size, int64_t overlap, bool before, bool after, const at::TensorOptions& options) {
  at::Tensor w = at::ones({size}, options);
  const int64_t n = std::min(overlap, size);
  at::Tensor up = at::arange(1, n + 1, options) / static_cast<double>(n + 1);
  if (before) w.slice(0, 0, n) = up;
  if (after) w.slice(0, size - n, size) = up.flip(0);
  return w;
}

}  // namespace

ExportedModel::ExportedModel(torch::jit::Module module, ModelOptions options)
    : module_(std::move(module)), options_(std::move(options)), kind_(module_.attr("maskforge_kind").toStringRef()) {
  if (options_.work_megapixels != "auto") {
    const auto megapixels = config::parse_number(options_.work_megapixels);
    if (!megapixels || *megapixels < 0) fail_input("work_megapixels '{}' is neither auto nor a number of megapixels >= 0", options_.work_megapixels);
    work_megapixels_ = *megapixels;
  } else if (module_.hasattr("train_size")) {  // exports before it was recorded run at native resolution
    const auto size = module_.attr("train_size").toIntList();
    if (size.size() == 2) work_megapixels_ = static_cast<double>(size[0] * size[1]) / 1e6;
  }
}

at::Tensor ExportedModel::perturbation(const at::Tensor& x) {
  at::AutoGradMode gradients(exporting::needs_gradients(module_));  // only a guided generator's own guidance needs them
  const int64_t h = x.size(2), w = x.size(3);
  const double scale = work_megapixels_ > 0 ? std::sqrt(work_megapixels_ * 1e6 / static_cast<double>(h * w)) : 1;
  if (scale >= 1) return native(x);
  const std::vector<int64_t> work{std::max<int64_t>(1, std::llround(static_cast<double>(h) * scale)), std::max<int64_t>(1, std::llround(static_cast<double>(w) * scale))};
  at::Tensor delta = native(at::_upsample_bilinear2d_aa(x, work, false));
  return at::upsample_bilinear2d(delta, {h, w}, false);
}

at::Tensor ExportedModel::protect(const at::Tensor& x, const std::vector<std::string>&) { return (x + perturbation(x)).clamp(0, 1); }

at::Tensor ExportedModel::decode(const at::Tensor& protected_images, const std::vector<std::string>& ids) {
  if (kind_ != "uep") {
    fail_input("a generator's perturbation depends on the image it protected, so it cannot be removed; only a UEP (or K-RTIO) decodes");
  }
  return (protected_images - perturbation(protected_images)).clamp(0, 1);
}

std::string ExportedModel::describe() const {
  return fmt::format("{} '{}' (eps {:.1f}/255, run '{}'){}", kind_, module_.attr("arch").toStringRef(), module_.attr("eps").toDouble() * 255,
                     module_.attr("run_name").toStringRef(),
                     work_megapixels_ > 0 ? fmt::format(", larger photos worked at {:.4g} megapixels", work_megapixels_) : "");
}

at::Tensor ExportedModel::native(const at::Tensor& x) {
  auto run = [&](const at::Tensor& t) { return module_.run_method("perturbation", t).toTensor().detach(); };
  if (x.size(2) * x.size(3) <= options_.max_megapixels * 1000000) return run(x);
  return tiled(x, options_.tile, options_.overlap, run);
}

at::Tensor tiled(const at::Tensor& x, int64_t tile, int64_t overlap, const std::function<at::Tensor(const at::Tensor&)>& fn) {
  const int64_t h = x.size(2), w = x.size(3), stride = std::max<int64_t>(1, tile - overlap);
  auto starts = [&](int64_t n) {
    std::vector<int64_t> s;
    for (int64_t p = 0;; p += stride) {
      if (p + tile >= n) {
        s.push_back(std::max<int64_t>(0, n - tile));
        break;
      }
      s.push_back(p);
    }
    return s;
  };
  at::Tensor sum = at::zeros_like(x), weight = at::zeros({1, 1, h, w}, x.options());
  const auto ys = starts(h), xs = starts(w);
  for (size_t i = 0; i < ys.size(); ++i) {
    for (size_t j = 0; j < xs.size(); ++j) {
      const int64_t th = std::min(tile, h), tw = std::min(tile, w);
      at::Tensor part = fn(x.slice(2, ys[i], ys[i] + th).slice(3, xs[j], xs[j] + tw));
      at::Tensor wy = ramp(th, overlap, i > 0, i + 1 < ys.size(), x.options()), wx = ramp(tw, overlap, j > 0, j + 1 < xs.size(), x.options());
      at::Tensor wt = (wy.view({th, 1}) * wx.view({1, tw})).view({1, 1, th, tw});
      sum.slice(2, ys[i], ys[i] + th).slice(3, xs[j], xs[j] + tw) += part * wt;
      weight.slice(2, ys[i], ys[i] + th).slice(3, xs[j], xs[j] + tw) += wt;
    }
  }
  return sum / weight;
}

std::unique_ptr<ExportedModel> load_exported(const ModelOptions& options, const c10::Device& device) {
  const std::filesystem::path file = options.path;
  if (!std::filesystem::is_regular_file(file)) fail_input("model '{}' does not exist", file.string());
  torch::jit::Module module;
  try {
    module = torch::jit::load(file.string(), device);
  } catch (const c10::Error&) {
    fail_input("'{}' is not a maskforge export: it is not a TorchScript file (make one with `maskforge export`)", file.string());
  }
  if (!exporting::is_maskforge_export(module)) {
    fail_input("'{}' is a TorchScript file but not a maskforge export (no maskforge_kind attribute; make one with `maskforge export`)", file.string());
  }
  module.eval();
  return std::make_unique<ExportedModel>(std::move(module), options);
}

}  // namespace mf::protect
