// Victim: one frozen model the protection is trained against. It owns its preprocessing
// (antialiased resize to its input size, normalisation), runs inside the differentiable
// graph so gradients reach the input image, and never its own parameters.
#pragma once

#include "networks/victim_config.h"

#include <ATen/core/ivalue.h>
#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <vector>

namespace torch::jit {
struct Module;
}

namespace mf::networks {

enum class VictimKind { classifier, embedder, detector, mllm };

// The network inside a victim, whatever its source.
class VictimNetwork {
 public:
  virtual ~VictimNetwork() = default;
  virtual c10::IValue forward(std::vector<c10::IValue> inputs) = 0;
  virtual std::vector<at::Tensor> parameters() = 0;
  virtual void to(const c10::Device& device) = 0;
  virtual void eval() = 0;
  virtual void train() = 0;
  // The TorchScript module forward runs (in eval mode a frozen copy), or nullptr for a
  // network of another source: an export that must compute what the victim computes
  // carries this one.
  virtual const torch::jit::Module* script() const { return nullptr; }
  // Whether the network has the extra method `name` (e.g. a detector's score_boxes), and
  // running it.
  virtual bool has_method(const std::string& /*name*/) const { return false; }
  virtual c10::IValue call(const std::string& name, std::vector<c10::IValue> inputs);
};

// Token ids of an mllm victim's prompts and refusal targets, made offline with the model's
// tokenizer (tools/tokenize_refusal.py); optionally the right answer per class label, for
// measuring whether the model still answers.
struct MllmTokens {
  std::vector<std::vector<int64_t>> prompts, targets, answers;
  std::vector<std::string> prompt_texts, target_texts;  // for reports; may be empty
};
MllmTokens load_mllm_tokens(const std::string& path);

// An mllm reading a target answer after a prompt, teacher-forced: what it predicts at each of
// the target's T positions.
struct TeacherForced {
  at::Tensor log_p;   // [N, T, V] float log-probabilities of the next token
  at::Tensor wanted;  // [N, T] the target's ids
  // The log-probability [N, T] of each target token.
  at::Tensor target_log_p() const { return log_p.gather(2, wanted.unsqueeze(2)).squeeze(2); }
};

class Victim {
 public:
  Victim(VictimConfig config, std::unique_ptr<VictimNetwork> network, const c10::Device& device);

  const std::string& name() const { return config_.name; }
  VictimKind kind() const { return kind_; }
  double weight() const { return config_.weight; }
  const VictimConfig& config() const { return config_; }
  int64_t parameter_count() const { return parameter_count_; }
  const MllmTokens& tokens() const { return tokens_; }

  // x01: images [N, 3, H, W] in [0, 1]. Returns the kind's output (logits [N, C], an
  // embedding [N, D] or boxes [N, B, 5]); an output of the wrong shape is an InputError
  // naming the victim.
  at::Tensor forward(const at::Tensor& x01);
  // mllm victims: token logits [N, T, V] for the images and input_ids [N, T].
  at::Tensor forward(const at::Tensor& x01, const at::Tensor& input_ids);
  // mllm victims: the images' reading of `target` after `prompt` (token ids).
  TeacherForced teacher_forced(const at::Tensor& x01, const std::vector<int64_t>& prompt, const std::vector<int64_t>& target);
  // Detectors whose export scores given boxes (`score_boxes`: MTCNN's O-Net): the face
  // probability [N, K] of boxes [N, K, 4] in input pixels, for images x01; scores_boxes()
  // says whether it can.
  bool scores_boxes() const { return network_->has_method("score_boxes"); }
  at::Tensor score_boxes(const at::Tensor& x01, const at::Tensor& boxes);
  // Resize (antialiased) to the input size, then normalise: the network's real input.
  at::Tensor preprocess(const at::Tensor& x01) const;
  // The TorchScript module forward runs, or nullptr (VictimNetwork::script).
  const torch::jit::Module* script() const { return network_->script(); }

  // For an attacker who fine-tunes the victim (eval's adaptive attacker): training mode and
  // gradients for every parameter, which are returned; freeze() undoes it.
  std::vector<at::Tensor> unfreeze();
  void freeze();

 private:
  at::Tensor select_and_check(const c10::IValue& out, int64_t batch) const;

  VictimConfig config_;
  VictimKind kind_;
  std::unique_ptr<VictimNetwork> network_;
  at::Tensor mean_, std_;
  int64_t parameter_count_ = 0;
  MllmTokens tokens_;
};

// A detector's cross-entropy towards "no face" for box scores in [0, 1]: -log(1 - score),
// which keeps a gradient where the detector is sure (a softmax score near 1 has almost none).
at::Tensor no_face_loss(const at::Tensor& scores);

// A detector's best box [N, 5] (x0, y0, x1, y1, score) of its boxes [N, B, 5].
at::Tensor best_box(const at::Tensor& boxes);

// Square boxes [N, K, 4] around faces [N, 4], one per draw of `draws` [N or 1, K, 3] in
// [0, 1): a side 0.85 to 1.3 times the face's longer side, a centre moved by up to 0.2 of it
// across and down. A detector scoring such boxes (Victim::score_boxes) has no box selection
// of its own, which is what makes attacks on it stall: suppressing the chosen boxes raises
// others. Detached.
at::Tensor boxes_around(const at::Tensor& face, const at::Tensor& draws);

// The classes an attack on a classifier moves away from, as log-weights [N, C]: finite at
// each image's `top_k` highest classes of `clean_logits`, -inf elsewhere. Equal weights (0)
// treat the k classes alike; `by_clean_probability` weighs each by its clean probability, so
// that an image the classifier was sure of is pushed off its prediction alone and a doubtful
// one off the classes after it too. Detached: the weights are the attack's fixed starting point.
at::Tensor away_from_top_classes(const at::Tensor& clean_logits, int64_t top_k, bool by_clean_probability);

// The same for one class per image, [N] (e.g. a label).
at::Tensor away_from_class(const at::Tensor& classes, int64_t num_classes);

// A classifier's cross-entropy away from weighted classes per image: -log of their weighted
// summed probability, logsumexp(logits) - logsumexp(logits + log_weights), [N]. With one
// class it is the usual cross-entropy. Moving away from a clean image's top two or three
// classes, not only its prediction, keeps an attack from moving an image the classifier
// misread onto its true class, which is usually the runner-up (README, "Guided generators").
at::Tensor away_cross_entropy(const at::Tensor& logits, const at::Tensor& log_weights);

// The victim that `config` describes, frozen, on `device`, warmed up with one batch.
std::shared_ptr<Victim> build_victim(const VictimConfig& config, const c10::Device& device);

}  // namespace mf::networks
