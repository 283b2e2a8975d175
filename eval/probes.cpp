#include "eval/probes.h"

#include "core/error.h"
#include "losses/image_ops.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>

namespace mf::eval {

void Tally::add(const std::string& metric, double sum, double count) {
  auto& [s, n] = sums_[metric];
  s += sum;
  n += count;
}

Metrics Tally::means() const {
  Metrics out;
  for (const auto& [k, v] : sums_) {
    if (v.second > 0) out[k] = v.first / v.second;
  }
  return out;
}

namespace {

double sum_of(const at::Tensor& t) { return t.to(at::kDouble).sum().item<double>(); }

class ClassifierProbe final : public Probe {
 public:
  ClassifierProbe(std::shared_ptr<networks::Victim> v, bool labelled) : victim_(std::move(v)), labelled_(labelled) {}
  void reference(const data::Batch& clean) override { clean_ = victim_->forward(clean.images).argmax(1); }
  void measure(const at::Tensor& images, const data::Batch& clean, Tally& tally) override {
    const at::Tensor logits = victim_->forward(images);
    const at::Tensor predicted = logits.argmax(1);
    const double n = static_cast<double>(images.size(0));
    if (labelled_) {
      if (clean.labels.max().item<int64_t>() >= logits.size(1)) {
        fail_input("victim '{}' has {} classes but the images have labels up to {}", victim_->name(), logits.size(1), clean.labels.max().item<int64_t>());
      }
      tally.add("accuracy", sum_of(predicted.eq(clean.labels.to(predicted.device()))), n);
    }
    tally.add("fooling_rate", sum_of(predicted.ne(clean_)), n);
  }
  std::pair<std::string, bool> headline() const override { return labelled_ ? std::pair{"accuracy", true} : std::pair{"fooling_rate", false}; }

 private:
  std::shared_ptr<networks::Victim> victim_;
  at::Tensor clean_;
  bool labelled_;
};

// An image's identity: its identity string, else its label, else unknown ("").
std::string identity_of(const data::Batch& b, size_t i) {
  if (i < b.identities.size() && !b.identities[i].empty()) return b.identities[i];
  const int64_t label = b.labels[static_cast<int64_t>(i)].item<int64_t>();
  return label >= 0 ? std::to_string(label) : "";
}

class EmbedderProbe final : public Probe {
 public:
  EmbedderProbe(std::shared_ptr<networks::Victim> v, std::string target) : victim_(std::move(v)), target_(std::move(target)) {}

  bool needs_gallery() const override { return true; }
  void add_to_gallery(const data::Batch& clean) override {
    gallery_parts_.push_back(embed(clean.images).to(at::kCPU));
    for (size_t i = 0; i < clean.indices.size(); ++i) {
      gallery_index_[clean.indices[i]] = static_cast<int64_t>(gallery_identity_.size());
      gallery_identity_.push_back(identity_of(clean, i));
    }
  }
  void reference(const data::Batch& clean) override { clean_ = embed(clean.images); }

  void measure(const at::Tensor& images, const data::Batch& clean, Tally& tally) override {
    const at::Tensor e = embed(images);
    const double n = static_cast<double>(images.size(0));
    tally.add("cosine", sum_of((e * clean_).sum(1)), n);
    if (!gallery_.defined() && !gallery_parts_.empty()) gallery_ = at::cat(gallery_parts_).to(e.device()), gallery_parts_.clear();
    if (!gallery_.defined()) return;
    at::Tensor similarity = e.matmul(gallery_.t());
    for (size_t i = 0; i < clean.indices.size(); ++i) {  // an image is not its own gallery entry
      similarity[static_cast<int64_t>(i)][gallery_index_.at(clean.indices[i])] = -std::numeric_limits<float>::infinity();
    }
    const at::Tensor top = similarity.argmax(1).to(at::kCPU);
    for (size_t i = 0; i < clean.indices.size(); ++i) {
      const std::string own = identity_of(clean, i), found = gallery_identity_[static_cast<size_t>(top[static_cast<int64_t>(i)].item<int64_t>())];
      if (!own.empty()) tally.add("identification", found == own ? 1 : 0, 1);
      if (!target_.empty() && own != target_) tally.add("impersonation", found == target_ ? 1 : 0, 1);
    }
  }
  std::pair<std::string, bool> headline() const override { return {"identification", true}; }

 private:
  at::Tensor embed(const at::Tensor& x) {
    const at::Tensor e = victim_->forward(x).to(at::kFloat);
    return e / e.norm(2, 1, true).clamp_min(1e-12);
  }
  std::shared_ptr<networks::Victim> victim_;
  std::string target_;
  std::vector<at::Tensor> gallery_parts_;
  at::Tensor gallery_, clean_;
  std::vector<std::string> gallery_identity_;
  std::map<int64_t, int64_t> gallery_index_;  // dataset index -> gallery row
};

class DetectorProbe final : public Probe {
 public:
  DetectorProbe(std::shared_ptr<networks::Victim> v, double threshold) : victim_(std::move(v)), threshold_(threshold) {}

  // The face each image should be found at, in the detector's input pixels: the given box,
  // else the clean image's best detection above the threshold; none when neither exists.
  void reference(const data::Batch& clean) override {
    const auto& size = victim_->config().input_size;
    const double sx = static_cast<double>(size[1]) / static_cast<double>(clean.images.size(3));
    const double sy = static_cast<double>(size[0]) / static_cast<double>(clean.images.size(2));
    const at::Tensor out = victim_->forward(clean.images).to(at::kFloat);
    const at::Tensor best = out.gather(1, out.select(2, 4).argmax(1).view({-1, 1, 1}).expand({-1, 1, 5})).squeeze(1);
    const at::Tensor given = clean.face_boxes.to(out.device()).to(at::kFloat);
    const at::Tensor has_given = given.select(1, 0) >= 0;
    face_ = at::where(has_given.unsqueeze(1), given * at::tensor({sx, sy, sx, sy}, given.options()), best.slice(1, 0, 4));
    has_face_ = has_given | best.select(1, 4).gt(threshold_);
  }
  void measure(const at::Tensor& images, const data::Batch&, Tally& tally) override {
    const at::Tensor out = victim_->forward(images).to(at::kFloat);
    const at::Tensor hit = (out.select(2, 4).gt(threshold_) & losses::box_iou(out.slice(2, 0, 4), face_).ge(0.5)).any(1);
    tally.add("detection_rate", sum_of(hit & has_face_), sum_of(has_face_));
  }
  std::pair<std::string, bool> headline() const override { return {"detection_rate", true}; }

 private:
  std::shared_ptr<networks::Victim> victim_;
  double threshold_;
  at::Tensor face_, has_face_;
};

class MllmProbe final : public Probe {
 public:
  MllmProbe(std::shared_ptr<networks::Victim> v, bool labelled) : victim_(std::move(v)), labelled_(labelled && !victim_->tokens().answers.empty()) {}
  void reference(const data::Batch& clean) override {
    if (labelled_ && clean.labels.max().item<int64_t>() >= static_cast<int64_t>(victim_->tokens().answers.size())) {
      fail_input("victim '{}' has answers for {} classes but the images have labels up to {}", victim_->name(), victim_->tokens().answers.size(),
                 clean.labels.max().item<int64_t>());
    }
  }
  void measure(const at::Tensor& images, const data::Batch& clean, Tally& tally) override {
    const auto& tokens = victim_->tokens();
    const int64_t n = images.size(0);
    size_t longest = 0;
    for (const auto& t : tokens.targets) longest = std::max(longest, t.size());
    if (labelled_) {
      for (const auto& a : tokens.answers) longest = std::max(longest, a.size());
    }
    auto ids_of = [&](const std::vector<int64_t>& ids) { return at::tensor(ids, at::kLong).to(images.device()).unsqueeze(0).expand({n, -1}).contiguous(); };
    const at::Tensor labels = clean.labels.to(at::kCPU);
    auto answer_of = [&](int64_t row) -> const std::vector<int64_t>& { return tokens.answers[static_cast<size_t>(labels[row].item<int64_t>())]; };
    for (const auto& prompt : tokens.prompts) {
      // Greedy decoding, up to the longest target (or answer), stopped early once no row can
      // still become one: each decoding step runs the whole model again.
      at::Tensor ids = ids_of(prompt), answer;
      // Whether row's decoded tokens so far agree with `wanted` where both have tokens.
      auto agrees = [&](int64_t row, const std::vector<int64_t>& wanted) {
        const int64_t k = std::min(answer.size(1), static_cast<int64_t>(wanted.size()));
        return answer[row].slice(0, 0, k).equal(at::tensor(wanted, at::kLong).slice(0, 0, k));
      };
      auto said = [&](int64_t row, const std::vector<int64_t>& wanted) { return answer.size(1) >= static_cast<int64_t>(wanted.size()) && agrees(row, wanted); };
      auto may_become = [&](int64_t row, const std::vector<int64_t>& wanted) { return answer.size(1) < static_cast<int64_t>(wanted.size()) && agrees(row, wanted); };
      for (size_t k = 0; k < longest; ++k) {
        ids = at::cat({ids, victim_->forward(images, ids).select(1, -1).argmax(1, true)}, 1);
        answer = ids.slice(1, static_cast<int64_t>(prompt.size())).to(at::kCPU);
        bool open = false;
        for (int64_t i = 0; i < n && !open; ++i) {
          open = std::any_of(tokens.targets.begin(), tokens.targets.end(), [&](const auto& t) { return may_become(i, t); }) ||
                 (labelled_ && may_become(i, answer_of(i)));
        }
        if (!open) break;
      }
      double refused = 0, right = 0;
      for (int64_t i = 0; i < n; ++i) {
        refused += std::any_of(tokens.targets.begin(), tokens.targets.end(), [&](const auto& t) { return said(i, t); });
        if (labelled_) right += said(i, answer_of(i));
      }
      tally.add("refusal_rate", refused, static_cast<double>(n));
      if (labelled_) tally.add("answer_accuracy", right, static_cast<double>(n));
      // The per-token probability of the first target, teacher-forced after the prompt.
      const at::Tensor log_p = victim_->teacher_forced(images, prompt, tokens.targets[0]).target_log_p();
      tally.add("target_likelihood", sum_of(log_p.mean(1).exp()), static_cast<double>(n));
    }
  }
  std::pair<std::string, bool> headline() const override { return {"refusal_rate", false}; }

 private:
  std::shared_ptr<networks::Victim> victim_;
  bool labelled_;
};

}  // namespace

std::unique_ptr<Probe> make_probe(std::shared_ptr<networks::Victim> victim, const ProbeOptions& options) {
  switch (victim->kind()) {
    case networks::VictimKind::classifier: return std::make_unique<ClassifierProbe>(std::move(victim), options.labelled);
    case networks::VictimKind::embedder: return std::make_unique<EmbedderProbe>(std::move(victim), options.impersonation_target);
    case networks::VictimKind::detector: return std::make_unique<DetectorProbe>(std::move(victim), options.detector_threshold);
    case networks::VictimKind::mllm: return std::make_unique<MllmProbe>(std::move(victim), options.labelled);
  }
  return nullptr;
}

}  // namespace mf::eval
