#include "networks/guide.h"

#include "core/error.h"
#include "data/jpeg.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

namespace mf::networks {

Guide::Guide(std::vector<std::shared_ptr<Victim>> victims, int64_t top_k, bool by_clean_probability, double jpeg_quality)
    : victims_(std::move(victims)), top_k_(top_k), by_clean_probability_(by_clean_probability), jpeg_quality_(jpeg_quality) {
  if (victims_.empty()) fail_runtime("a guide needs at least one victim");
  for (const auto& v : victims_) {
    if (v->kind() == VictimKind::embedder) fail_runtime("guide victim '{}' is an embedder: a guide is a classifier, detector or mllm", v->name());
  }
}

at::Tensor Guide::operator()(const at::Tensor& x, std::vector<at::Tensor>& away) const {
  if (!away.empty() && away.size() != victims_.size()) fail_runtime("guide: {} class weights for {} victims", away.size(), victims_.size());
  at::AutoGradMode grad(true);
  at::Tensor xg = x.detach().requires_grad_(true);
  // Victim i's loss at `seen` (xg or its JPEG); the first call at xg fills away[i].
  auto loss_of = [&](size_t i, const at::Tensor& seen) {
    const auto& v = victims_[i];
    if (v->kind() == VictimKind::mllm) {
      if (away.size() == i) away.emplace_back();
      return -v->teacher_forced(seen, v->tokens().prompts[0], v->tokens().targets[0]).target_log_p().sum();
    }
    at::Tensor out = v->forward(seen).to(at::kFloat);
    if (v->kind() == VictimKind::classifier) {
      if (away.size() == i) {
        if (top_k_ > out.size(1)) fail_input("generator.guide_top_k is {}, but guide victim '{}' has {} classes", top_k_, v->name(), out.size(1));
        away.push_back(away_from_top_classes(out, top_k_, by_clean_probability_));
      }
      return away_cross_entropy(out, away[i]).sum();
    }
    if (away.size() == i) away.emplace_back();
    return no_face_loss(out.select(2, 4)).sum();  // over every box
  };
  auto scaled = [](const at::Tensor& gradient) {
    const at::Tensor g = gradient.to(at::kFloat);
    return g / (4 * g.flatten(1).std(1).clamp_min(1e-12)).view({-1, 1, 1, 1});
  };
  const at::Tensor compressed = jpeg_quality_ > 0 ? data::jpeg_approx(xg, jpeg_quality_) : at::Tensor();
  at::Tensor total = at::zeros_like(x, at::kFloat), through_jpeg = at::zeros_like(total);
  for (size_t i = 0; i < victims_.size(); ++i) {
    total = total + scaled(torch::autograd::grad({loss_of(i, xg)}, {xg})[0]);
    // The JPEG's graph is shared by the victims: kept until the last.
    if (compressed.defined()) through_jpeg = through_jpeg + scaled(torch::autograd::grad({loss_of(i, compressed)}, {xg}, {}, true)[0]);
  }
  at::Tensor map = compressed.defined() ? at::cat({total, through_jpeg}, 1) : total;
  return (map / static_cast<double>(victims_.size())).to(x.scalar_type()).detach();
}

std::string Guide::script() const {
  // guide_loss{i}: victim i's loss at an image, as loss_of above. A detector or an mllm has
  // no class to move away from; its entry of `away` is an empty tensor, so that the entries
  // follow the victims.
  std::string s;
  for (size_t i = 0; i < victims_.size(); ++i) {
    const Victim& victim = *victims_[i];
    const auto& c = victim.config();
    std::string call = fmt::format("out = self.guide{}.forward(v).float()", i), find_away = "away.append(torch.empty([0], device=out.device))", loss;
    if (victim.kind() == VictimKind::classifier) {
      find_away = fmt::format(R"PY(clean = out.detach()
        top = torch.topk(clean, {}, 1)[1]
        away.append(torch.full_like(clean, -float("inf")).scatter(1, top, {})))PY",
                              top_k_, by_clean_probability_ ? "torch.gather(torch.log_softmax(clean, 1), 1, top)" : "torch.zeros(top.shape, device=out.device)");
      loss = fmt::format("return torch.sum(torch.logsumexp(out, [1]) - torch.logsumexp(out + away[{}], [1]))", i);
    } else if (victim.kind() == VictimKind::detector) {
      loss = "return -torch.sum(torch.log1p(-torch.clamp(out[:, :, 4], max=1.0 - 1e-6)))";
    } else {  // an mllm: its first target after its first prompt, as loss_of
      const auto& prompt = victim.tokens().prompts[0];
      const auto& target = victim.tokens().targets[0];
      std::vector<int64_t> ids = prompt;
      ids.insert(ids.end(), target.begin(), target.end());
      const size_t start = prompt.size() - 1, end = start + target.size();
      // An int list makes int64 ids (torch.long is not a value in this TorchScript).
      call = fmt::format(R"PY(ids = torch.tensor([{}], device=v.device).repeat(v.size(0), 1)
    out = self.guide{}.forward(v, ids))PY", fmt::join(ids, ", "), i);
      loss = fmt::format("return -torch.sum(torch.gather(torch.log_softmax(out[:, {0}:{1}].float(), 2), 2, ids[:, {2}:{3}].unsqueeze(2)))", start, end,
                         start + 1, end + 1);
    }
    s += fmt::format(R"PY(def guide_loss{i}(self, x, away: List[Tensor]):
    v = x
    if v.size(2) != {h} or v.size(3) != {w}:
        v = torch._upsample_bilinear2d_aa(v, [{h}, {w}], False, None, None)
    v = (v - torch.tensor([{mean}], dtype=v.dtype, device=v.device).view(1, 3, 1, 1)) / torch.tensor([{std}], dtype=v.dtype, device=v.device).view(1, 3, 1, 1)
    {call}
    if len(away) == {i}:
        {find_away}
    {loss}

)PY",
                     fmt::arg("call", call), fmt::arg("find_away", find_away), fmt::arg("loss", loss), fmt::arg("h", c.input_size[0]),
                     fmt::arg("w", c.input_size[1]), fmt::arg("i", i), fmt::arg("mean", fmt::format("{:.17g}", fmt::join(c.mean, ", "))),
                     fmt::arg("std", fmt::format("{:.17g}", fmt::join(c.std, ", "))));
  }
  const bool jpeg = jpeg_quality_ > 0;
  if (jpeg) s += data::jpeg_approx_script(jpeg_quality_) + "\n";
  s += R"PY(def guide_scaled(self, g: Optional[Tensor]):
    assert g is not None
    return g / (4 * torch.clamp(torch.std(torch.flatten(g, 1), [1], True, False), min=1e-12)).view(-1, 1, 1, 1)

def guidance(self, x, away: List[Tensor]):
    assert torch.is_grad_enabled(), "this generator is guided by its victims' input gradients (generator.guide): call it with gradients enabled, outside torch.no_grad()"
    xg = x.detach().requires_grad_(True)
    total = torch.zeros_like(x)
)PY";
  if (jpeg) s += "    compressed = self.jpeg_approx(xg)\n    through_jpeg = torch.zeros_like(x)\n";
  for (size_t i = 0; i < victims_.size(); ++i) {
    s += fmt::format("    total = total + self.guide_scaled(torch.autograd.grad([self.guide_loss{0}(xg, away)], [xg])[0])\n", i);
    if (jpeg) s += fmt::format("    through_jpeg = through_jpeg + self.guide_scaled(torch.autograd.grad([self.guide_loss{0}(compressed, away)], [xg], None, True)[0])\n", i);
  }
  s += fmt::format("    return ({} / {}.0).detach()\n", jpeg ? "torch.cat([total, through_jpeg], 1)" : "total", victims_.size());
  return s;
}

std::shared_ptr<Guide> make_guide(const std::vector<std::string>& names, int64_t top_k, bool by_clean_probability, const VictimEnsemble& victims,
                                  double jpeg_quality) {
  if (names.empty()) return nullptr;
  std::vector<std::shared_ptr<Victim>> chosen;
  for (const auto& name : names) chosen.push_back(victims.at(name));
  return std::make_shared<Guide>(std::move(chosen), top_k, by_clean_probability, jpeg_quality);
}

std::shared_ptr<Guide> make_guide(const GeneratorConfig& config, const VictimEnsemble& victims) {
  return make_guide(config.guide, config.guide_top_k, config.guide_top_k_weights == "clean", victims, config.guide_jpeg);
}

}  // namespace mf::networks
