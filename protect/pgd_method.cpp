// The `pgd` method: per-image PGD against the victims, losses, eps and robustness of a
// training config (slow; the strongest protection, and the reference the others are
// measured against).
#include "protect/methods.h"

#include "protection/pgd.h"

#include <ATen/ATen.h>

namespace mf::protect {
namespace {

class PgdMethod final : public Method {
 public:
  PgdMethod(protection::Config config, protection::PgdOptions options, const c10::Device& device)
      : config_(std::move(config)), protection_(config_, device), options_(options) {}

  at::Tensor protect(const at::Tensor& x, const std::vector<std::string>& ids) override {
    data::Batch b;
    b.images = x;
    b.labels = at::full({x.size(0)}, -1, x.options().dtype(at::kLong));
    b.face_boxes = at::full({x.size(0), 4}, -1.0, x.options());
    const at::Tensor delta = protection::pgd_protect(protection_, b, protection_.eps.value(0), options_, static_cast<uint64_t>(config_.run.seed) + count_++);
    return (x + delta).clamp(0, 1);
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

}  // namespace

std::unique_ptr<Method> build_pgd(const MethodConfig& config, const MethodContext& context) {
  const auto& o = config.options.as<PgdMethodOptions>();
  auto run = protection::load_config(o.config, o.overrides);
  auto pgd = run.trainer.kind == "pgd" ? run.trainer.options.as<protection::PgdOptions>() : protection::PgdOptions{};
  if (o.iterations > 0) pgd.iterations = o.iterations;
  if (o.step_size > 0) pgd.step_size = o.step_size;
  return std::make_unique<PgdMethod>(std::move(run), pgd, context.device);
}

}  // namespace mf::protect
