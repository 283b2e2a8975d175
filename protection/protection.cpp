#include "protection/protection.h"

#include "core/error.h"
#include "losses/image_ops.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

namespace mf::protection {
namespace {

std::vector<at::Tensor> gradients(const at::Tensor& value, const std::vector<at::Tensor>& parameters) {
  auto grads = torch::autograd::grad({value}, parameters, {}, /*retain_graph=*/true, /*create_graph=*/false, /*allow_unused=*/true);
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) grads[i] = at::zeros_like(parameters[i]);
  }
  return grads;
}

// The victims' gradients at what they saw (undefined where a victim's terms do not reach it),
// each rescaled per image to that image's mean over the victims, summed: every victim pulls
// with the same strength, as the guide's map weighs them. An image whose loss is capped
// keeps its zero gradient.
at::Tensor balanced(const std::vector<at::Tensor>& gradients, const at::Tensor& like) {
  std::vector<at::Tensor> present, scales;
  for (const auto& g : gradients) {
    if (!g.defined()) continue;
    present.push_back(g);
    scales.push_back(g.flatten(1).square().mean(1).sqrt());
  }
  at::Tensor total = at::zeros_like(like);
  if (present.empty()) return total;
  const at::Tensor mean = at::stack(scales).mean(0);
  for (size_t v = 0; v < present.size(); ++v) total = total + present[v] * (mean / scales[v].clamp_min(1e-30)).view({-1, 1, 1, 1});
  return total;
}

double dot(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i].to(at::kDouble) * b[i].to(at::kDouble)).sum().item<double>();
  return s;
}

}  // namespace

Protection::Protection(const Config& config, const c10::Device& device)
    : victims(config.victims, device), objective(config.losses, victims), eps(config.eps), robustness(config.robustness), config_(config), device_(device) {
  if (objective.terms().empty()) fail_input("the config has no losses; a protection needs at least one adversarial term");
}

losses::ObjectiveValue Protection::evaluate(const data::Batch& batch, const at::Tensor& delta, uint64_t seed, bool robust) {
  losses::Transformed seen;
  if (robust && !robustness.empty()) seen = robustness.apply((batch.images + delta).clamp(0, 1), seed);
  losses::StepContext ctx(victims, batch.images, delta, seen, batch.labels, batch.face_boxes, seed);
  if (config_.trainer.balance_victims) ctx.separate_victims();
  return objective.compute(ctx);
}

Protection::Roots Protection::backward_roots(const losses::ObjectiveValue& value, double scale) const {
  auto weight = [&](const at::Tensor& like) { return at::full({}, 1 / scale, like.options()); };
  // Without separated victims, or with no adversarial gradient to take apart, the plain sum.
  if (value.victim_inputs.empty() || !value.adversarial.requires_grad()) return {{value.total()}, {weight(value.adversarial)}};
  auto per_victim = torch::autograd::grad({value.adversarial}, value.victim_inputs, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                          /*allow_unused=*/true);
  Roots roots{{value.seen}, {balanced(per_victim, value.seen) / scale}};
  if (value.quality.requires_grad()) roots.outputs.push_back(value.quality), roots.gradients.push_back(weight(value.quality));
  return roots;
}

void Protection::backward(const losses::ObjectiveValue& value, const std::vector<at::Tensor>& parameters, double scale, losses::StepMetrics& metrics,
                          const std::function<void(std::vector<at::Tensor>&)>& average) {
  if (config_.trainer.combine == "sum" || !value.adversarial.requires_grad() || !value.quality.requires_grad()) {
    const Roots roots = backward_roots(value, scale);
    torch::autograd::backward(roots.outputs, roots.gradients);
    return;
  }
  auto ga = gradients(value.adversarial, parameters), gq = gradients(value.quality, parameters);
  if (average) average(ga), average(gq);
  const double both = dot(ga, gq), aa = dot(ga, ga), qq = dot(gq, gq);
  metrics["grad/conflict"] = losses::host_metric(both < 0 ? 1 : 0);
  for (size_t i = 0; i < parameters.size(); ++i) {
    at::Tensor g = ga[i] + gq[i];
    if (both < 0) g = g - (both / std::max(qq, 1e-30)) * gq[i] - (both / std::max(aa, 1e-30)) * ga[i];
    g = g / scale;
    auto& grad = parameters[i].mutable_grad();
    grad = grad.defined() ? grad + g : g.clone();
  }
}

Metrics Protection::validate(const std::shared_ptr<const data::Dataset>& dataset, int64_t batches, uint64_t seed,
                             const std::function<at::Tensor(const data::Batch&)>& perturb) {
  Metrics sum;
  if (!dataset) return sum;
  data::Loader loader(dataset, data::loader_options(config_.data, false, seed));
  const int64_t n = std::min(batches, loader.batches_per_epoch());
  for (int64_t i = 0; i < n; ++i) {
    data::Batch b = loader.next().to(device_);
    at::Tensor delta = perturb(b).detach();
    at::Tensor protected_images = (b.images + delta).clamp(0, 1);
    at::NoGradGuard no_grad;
    losses::StepContext ctx(victims, b.images, delta, {}, b.labels, b.face_boxes, data::mix(seed, i));
    Metrics m = losses::values(objective.compute(ctx).metrics);
    m["ssim"] = losses::ssim(protected_images, b.images).mean().item<double>();
    m["psnr"] = losses::psnr(protected_images, b.images).mean().item<double>();
    m["linf_255"] = delta.abs().max().item<double>() * 255;
    for (const auto& v : victims.victims()) {
      if (v->kind() != networks::VictimKind::classifier) continue;
      at::Tensor clean = ctx.clean(*v).argmax(1), adv = ctx.adversarial(*v).argmax(1);
      const bool labelled = (b.labels >= 0).all().item<bool>() && b.labels.max().item<int64_t>() < ctx.clean(*v).size(1);
      at::Tensor truth = labelled ? b.labels : clean;
      m[v->name() + "/clean_accuracy"] = clean.eq(truth).to(at::kFloat).mean().item<double>();
      m[v->name() + "/protected_accuracy"] = adv.eq(truth).to(at::kFloat).mean().item<double>();
    }
    for (const auto& [k, x] : m) sum[k] += x / static_cast<double>(n);
  }
  return sum;
}

std::vector<std::pair<std::string, std::string>> summary_rows(const Metrics& validation) {
  std::vector<std::pair<std::string, std::string>> rows;
  auto percent = [](double v) { return fmt::format("{:.1f} %", 100 * v); };
  for (const auto& [k, v] : validation) {
    const std::string key = k.substr(4);  // without "val/"
    if (key.ends_with("/clean_accuracy")) rows.emplace_back("clean accuracy (" + key.substr(0, key.find('/')) + ")", percent(v));
    if (key.ends_with("/protected_accuracy")) rows.emplace_back("protected accuracy (" + key.substr(0, key.find('/')) + ")", percent(v));
  }
  for (const auto& [k, v] : validation) {
    for (const char* rate : {"/cosine_distance", "/detection_rate", "/refusal_rate", "/cosine_to_target", "/cosine_to_fixed", "/target_rate"}) {
      if (k.ends_with(rate)) rows.emplace_back(k.substr(4), fmt::format("{:.3f}", v));
    }
  }
  if (validation.count("val/ssim")) rows.emplace_back("SSIM", fmt::format("{:.4f}", validation.at("val/ssim")));
  if (validation.count("val/psnr")) rows.emplace_back("PSNR", fmt::format("{:.2f} dB", validation.at("val/psnr")));
  return rows;
}

}  // namespace mf::protection
