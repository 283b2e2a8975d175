#include "networks/guide.h"

#include "core/error.h"
#include "data/jpeg.h"
#include "data/random.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

namespace mf::networks {

Guide::Guide(std::vector<std::shared_ptr<Victim>> victims, GuideOptions options) : victims_(std::move(victims)), options_(options) {
  if (victims_.empty()) fail_runtime("a guide needs at least one victim");
  for (const auto& v : victims_) {
    if (v->kind() == VictimKind::embedder) fail_runtime("guide victim '{}' is an embedder: a guide is a classifier, detector or mllm", v->name());
    if (options_.crops > 0 && v->kind() == VictimKind::detector && !v->scores_boxes()) {
      fail_input("generator.guide_crops needs detectors that score given boxes, and guide victim '{}' has no score_boxes method "
                 "(tools/export_victim.py mtcnn exports one)", v->name());
    }
  }
  // Fixed draws, so that every pass, run and export scores the same boxes around a face.
  data::Rng rng(0);
  std::vector<float> draws(static_cast<size_t>(options_.crops * 3));
  for (float& d : draws) d = static_cast<float>(rng.uniform());
  crop_draws_ = at::tensor(draws).view({1, options_.crops, 3});
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
    if (v->kind() == VictimKind::detector && options_.crops > 0) {
      if (away.size() == i) {
        at::NoGradGuard no_grad;
        away.push_back(best_box(v->forward(seen.detach()).to(at::kFloat)).slice(1, 0, 4));
      }
      return no_face_loss(v->score_boxes(seen, boxes_around(away[i], crop_draws_)).to(at::kFloat)).sum();
    }
    at::Tensor out = v->forward(seen).to(at::kFloat);
    if (v->kind() == VictimKind::classifier) {
      if (away.size() == i) {
        if (options_.top_k > out.size(1)) {
          fail_input("generator.guide_top_k is {}, but guide victim '{}' has {} classes", options_.top_k, v->name(), out.size(1));
        }
        away.push_back(away_from_top_classes(out, options_.top_k, options_.by_clean_probability));
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
  const at::Tensor compressed = options_.jpeg_quality > 0 ? data::jpeg_approx(xg, options_.jpeg_quality) : at::Tensor();
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
  // guide_loss{i}: victim i's loss at an image, as loss_of above. A victim with nothing to
  // keep (a detector on its own boxes, an mllm) gets an empty tensor in `away`, so that the
  // entries follow the victims.
  std::string s;
  bool crops = false;
  for (size_t i = 0; i < victims_.size(); ++i) {
    const Victim& victim = *victims_[i];
    const auto& c = victim.config();
    std::string call = fmt::format("out = self.guide{}.forward(v).float()", i), find_away = "away.append(torch.empty([0], device=out.device))", loss;
    if (victim.kind() == VictimKind::classifier) {
      find_away = fmt::format(R"PY(clean = out.detach()
        top = torch.topk(clean, {}, 1)[1]
        away.append(torch.full_like(clean, -float("inf")).scatter(1, top, {})))PY",
                              options_.top_k,
                              options_.by_clean_probability ? "torch.gather(torch.log_softmax(clean, 1), 1, top)" : "torch.zeros(top.shape, device=out.device)");
      loss = fmt::format("return torch.sum(torch.logsumexp(out, [1]) - torch.logsumexp(out + away[{}], [1]))", i);
    } else if (victim.kind() == VictimKind::detector && options_.crops > 0) {
      crops = true;
      call.clear();  // the clean face is found once, without gradients
      find_away = fmt::format(R"PY(clean = self.guide{}.forward(v.detach()).float()
        best = torch.argmax(clean[:, :, 4], 1)
        away.append(torch.gather(clean, 1, best.view(-1, 1, 1).expand(-1, 1, 5)).squeeze(1)[:, :4]))PY", i);
      loss = fmt::format(R"PY(scores = self.guide{0}.score_boxes(v, self.guide_boxes_around(away[{0}])).float()
    return -torch.sum(torch.log1p(-torch.clamp(scores, max=1.0 - 1e-6))))PY", i);
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
  if (crops) {  // networks::boxes_around with the guide's fixed draws
    std::vector<std::string> draws;
    const at::Tensor u = crop_draws_.view({-1, 3});
    for (int64_t k = 0; k < u.size(0); ++k) {
      draws.push_back(fmt::format("[{:.9g}, {:.9g}, {:.9g}]", u[k][0].item<float>(), u[k][1].item<float>(), u[k][2].item<float>()));
    }
    s += fmt::format(R"PY(def guide_boxes_around(self, face):
    u = torch.tensor([{}], dtype=face.dtype, device=face.device)
    side = torch.maximum(face[:, 2] - face[:, 0], face[:, 3] - face[:, 1]).view(-1, 1)
    cx = ((face[:, 0] + face[:, 2]) / 2).view(-1, 1) + (u[:, 0] * 0.4 - 0.2) * side
    cy = ((face[:, 1] + face[:, 3]) / 2).view(-1, 1) + (u[:, 1] * 0.4 - 0.2) * side
    half = (0.85 + u[:, 2] * 0.45) * side / 2
    return torch.stack([cx - half, cy - half, cx + half, cy + half], 2)

)PY", fmt::join(draws, ", "));
  }
  const bool jpeg = options_.jpeg_quality > 0;
  if (jpeg) s += data::jpeg_approx_script(options_.jpeg_quality) + "\n";
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

std::shared_ptr<Guide> make_guide(const std::vector<std::string>& names, const VictimEnsemble& victims, GuideOptions options) {
  if (names.empty()) return nullptr;
  std::vector<std::shared_ptr<Victim>> chosen;
  for (const auto& name : names) chosen.push_back(victims.at(name));
  return std::make_shared<Guide>(std::move(chosen), options);
}

std::shared_ptr<Guide> make_guide(const GeneratorConfig& config, const VictimEnsemble& victims) {
  return make_guide(config.guide, victims,
                    {.top_k = config.guide_top_k, .by_clean_probability = config.guide_top_k_weights == "clean", .jpeg_quality = config.guide_jpeg,
                     .crops = config.guide_crops});
}

}  // namespace mf::networks
