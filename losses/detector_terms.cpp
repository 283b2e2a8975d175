// The adversarial term against face detectors: lower the scores of the boxes that overlap
// the true face, so the detector no longer finds it.
#include "data/random.h"
#include "losses/family.h"
#include "losses/image_ops.h"
#include "networks/victim.h"

#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

namespace mf::losses {
namespace {

struct SuppressOptions {
  double iou = 0.3;
  double score_threshold = 0.5;
  bool area_weighted = true;
  std::string face = "auto";
  bool log = true;
  int64_t crops = 0;
  template <class V>
  void visit(V& v) {
    v("iou", iou, "boxes overlapping the face by more than this IoU are suppressed", config::fraction());
    v("score_threshold", score_threshold, "a box scoring above this counts as a detection", config::fraction());
    v("area_weighted", area_weighted, "weight each box by its area relative to the face (up to 1): small boxes on part of the face matter less");
    v("face", face,
      "where the true face is: manifest (the batch's face_box), clean (the detector's best clean box), auto (each image's manifest box "
      "where it has one, its clean box elsewhere)",
      config::one_of({"auto", "manifest", "clean"}));
    v("log", log, "minimise -log(1 - score), the detector's cross-entropy towards 'no face', which keeps a gradient where it is sure "
      "(a softmax score near 1 has almost none); false: the score itself");
    v("crops", crops,
      "0: suppress the detector's own boxes. N > 0: instead score N random square boxes around each face (0.85 to 1.3 times its "
      "size, shifted by up to 0.2 of it) with the detector's score_boxes (MTCNN: O-Net) and suppress them all; the detector's "
      "own box selection, which picks other boxes as the chosen ones fall, is then out of the objective",
      config::at_least(0));
  }
};

class DetectionSuppress final : public VictimTerm {
 public:
  DetectionSuppress(const LossConfig& c, const networks::VictimEnsemble& v)
      : VictimTerm(c, v, {"detector"}), o_(c.options.as<SuppressOptions>()) {
    if (o_.crops == 0) return;
    for (const auto& [victim, weight] : select_victims(c, v, {"detector"})) {
      if (!victim->scores_boxes()) {
        fail_input("loss '{}': `crops` needs detectors that score given boxes, and victim '{}' has no score_boxes method "
                   "(tools/export_victim.py mtcnn exports one)", c.name, victim->name());
      }
    }
  }

  at::Tensor compute_one(StepContext& ctx, networks::Victim& victim, StepMetrics& m, const std::string& p) override {
    auto [face, has_face] = faces(ctx, victim);
    if (o_.crops > 0) return around_faces(ctx, victim, face, has_face, m, p);
    const at::Tensor& out = ctx.adversarial(victim);
    at::Tensor boxes = out.slice(2, 0, 4).detach(), scores = out.select(2, 4);
    at::Tensor overlap = box_iou(boxes, face).gt(o_.iou).to(scores.dtype()) * has_face.unsqueeze(1);
    at::Tensor weight = overlap;
    if (o_.area_weighted) {
      at::Tensor area = (boxes.select(2, 2) - boxes.select(2, 0)).clamp_min(0) * (boxes.select(2, 3) - boxes.select(2, 1)).clamp_min(0);
      at::Tensor face_area = ((face.select(1, 2) - face.select(1, 0)) * (face.select(1, 3) - face.select(1, 1))).clamp_min(1).unsqueeze(1);
      weight = overlap * (area / face_area).clamp_max(1);
    }
    const at::Tensor images = has_face.sum().clamp_min(1);  // images without a face add nothing below
    at::Tensor per_image = (weight * box_loss(scores)).sum(1) / weight.sum(1).clamp_min(1e-6);
    report_detections(out.detach(), face, has_face, m, p);
    return per_image.sum() / images;
  }

 private:
  // The crops objective: every one of `crops` random boxes around each face suppressed.
  // The detection rate is still the detector's own, measured without gradients.
  at::Tensor around_faces(StepContext& ctx, networks::Victim& victim, const at::Tensor& face, const at::Tensor& has_face, StepMetrics& m,
                          const std::string& p) {
    const at::Tensor input = ctx.input(victim);
    const at::Tensor scores = victim.score_boxes(input, crop_boxes(face, ctx.seed(), victim.name()));
    const at::Tensor images = has_face.sum().clamp_min(1);
    {
      at::NoGradGuard no_grad;
      report_detections(victim.forward(input.detach()), face, has_face, m, p);
    }
    m[p + "crop_score"] = (scores.detach().mean(1) * has_face).sum() / images;
    return (box_loss(scores).mean(1) * has_face).sum() / images;
  }

  at::Tensor box_loss(const at::Tensor& scores) const { return o_.log ? networks::no_face_loss(scores) : scores; }

  // The share of images whose face the detector still finds in `out` (a box overlapping it
  // by more than `iou` and scoring above `score_threshold`), and how many have a face.
  void report_detections(const at::Tensor& out, const at::Tensor& face, const at::Tensor& has_face, StepMetrics& m, const std::string& p) const {
    const at::Tensor hit = out.select(2, 4).gt(o_.score_threshold) & box_iou(out.slice(2, 0, 4), face).gt(o_.iou);
    m[p + "detection_rate"] = (hit.any(1).to(at::kFloat) * has_face).sum() / has_face.sum().clamp_min(1);
    m[p + "faces"] = has_face.sum();
  }

  // `crops` boxes around each face [N, 4] (networks::boxes_around), drawn from the step's
  // seed, so a resumed run draws the same.
  at::Tensor crop_boxes(const at::Tensor& face, uint64_t seed, const std::string& victim) const {
    data::Rng rng(data::mix(seed, std::hash<std::string>{}(victim)));
    std::vector<float> draws(static_cast<size_t>(face.size(0) * o_.crops * 3));
    for (float& d : draws) d = static_cast<float>(rng.uniform());
    return networks::boxes_around(face, at::tensor(draws).view({face.size(0), o_.crops, 3}));
  }

  // The face box of each image in the victim's input pixels of what it sees (moved with the
  // content by crop transforms), and whether there is one.
  std::pair<at::Tensor, at::Tensor> faces(StepContext& ctx, networks::Victim& victim) {
    const auto& size = victim.config().input_size;
    const double sx = static_cast<double>(size[1]) / ctx.x().size(3), sy = static_cast<double>(size[0]) / ctx.x().size(2);
    at::Tensor given = ctx.face_boxes().to(ctx.x().device());
    at::Tensor known = given.select(1, 0) >= 0;
    at::Tensor face = given * at::tensor({sx, sy, sx, sy}, given.options()), has_face = known.to(at::kFloat);
    if (o_.face == "clean" || (o_.face == "auto" && !known.all().item<bool>())) {
      at::Tensor top = networks::best_box(ctx.clean(victim));
      at::Tensor clean_face = top.slice(1, 0, 4).to(face.dtype()), clean_has = top.select(1, 4).gt(o_.score_threshold).to(at::kFloat);
      // auto: each image's manifest box where it has one, the detector's clean box elsewhere.
      const at::Tensor use_clean = o_.face == "clean" ? at::ones_like(known) : known.logical_not();
      face = at::where(use_clean.unsqueeze(1), clean_face, face);
      has_face = at::where(use_clean, clean_has, has_face);
    }
    face = ctx.placement().move(face, sx, sy);
    // A face the crop cut off entirely is no longer there to hide.
    at::Tensor visible = ((face.select(1, 2) - face.select(1, 0)) > 0) & ((face.select(1, 3) - face.select(1, 1)) > 0);
    return {face, has_face * visible.to(at::kFloat)};
  }

  SuppressOptions o_;
};

}  // namespace

std::vector<TermEntry> detector_terms() {
  return {{"detection_suppress",
           "Detector: lower the scores of boxes overlapping the true face (from the manifest, or the detector's own best clean box).",
           options_of<SuppressOptions>(), {{"detector"}, make_term<DetectionSuppress>}}};
}

}  // namespace mf::losses
