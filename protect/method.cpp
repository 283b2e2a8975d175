#include "protect/method.h"

#include "core/error.h"
#include "export/twin.h"

#include <ATen/ATen.h>

namespace mf::protect {
namespace {

class ExportedMethod final : public Method {
 public:
  ExportedMethod(torch::jit::Module module, SizeOptions sizes) : module_(std::move(module)), sizes_(sizes) {}
  at::Tensor perturbation(const at::Tensor& x) override {
    at::NoGradGuard no_grad;
    const int64_t h = x.size(2), w = x.size(3);
    const double scale = sizes_.work_megapixels > 0 ? std::sqrt(sizes_.work_megapixels * 1e6 / static_cast<double>(h * w)) : 1;
    if (scale >= 1) return native(x);
    const std::vector<int64_t> work{std::max<int64_t>(1, std::llround(static_cast<double>(h) * scale)), std::max<int64_t>(1, std::llround(static_cast<double>(w) * scale))};
    at::Tensor delta = native(at::_upsample_bilinear2d_aa(x, work, false));
    return at::upsample_bilinear2d(delta, {h, w}, false);
  }
  std::string describe() const override {
    return fmt::format("{} '{}' (eps {:.1f}/255, run '{}')", module_.attr("maskforge_kind").toStringRef(), module_.attr("arch").toStringRef(),
                       module_.attr("eps").toDouble() * 255, module_.attr("run_name").toStringRef());
  }

 private:
  at::Tensor native(const at::Tensor& x) {
    auto run = [&](const at::Tensor& t) { return module_.run_method("perturbation", t).toTensor(); };
    if (x.size(2) * x.size(3) <= sizes_.max_megapixels * 1000000) return run(x);
    return tiled(x, sizes_.tile, sizes_.overlap, run);
  }

  torch::jit::Module module_;
  SizeOptions sizes_;
};

class PgdMethod final : public Method {
 public:
  PgdMethod(const protection::Config& config, const c10::Device& device)
      : config_(config), protection_(config_, device),
        options_(config.trainer.kind == "pgd" ? config.trainer.options.as<protection::PgdOptions>() : protection::PgdOptions{}) {}
  at::Tensor perturbation(const at::Tensor& x) override {
    data::Batch b;
    b.images = x;
    b.labels = at::full({x.size(0)}, -1, x.options().dtype(at::kLong));
    b.face_boxes = at::full({x.size(0), 4}, -1.0, x.options());
    return protection::pgd_protect(protection_, b, protection_.eps.value(0), options_, static_cast<uint64_t>(config_.run.seed) + count_++);
  }
  std::string describe() const override {
    return fmt::format("per-image PGD ({} iterations, {}, eps {:.1f}/255)", options_.iterations, options_.norm, protection_.eps.value(0) * 255);
  }

 private:
  protection::Config config_;
  protection::Protection protection_;
  protection::PgdOptions options_;
  uint64_t count_ = 0;
};

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

std::unique_ptr<Method> load_exported(const std::filesystem::path& file, SizeOptions sizes, const c10::Device& device) {
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
  return std::make_unique<ExportedMethod>(std::move(module), sizes);
}

std::unique_ptr<Method> make_pgd(const protection::Config& config, const c10::Device& device) { return std::make_unique<PgdMethod>(config, device); }

}  // namespace mf::protect
