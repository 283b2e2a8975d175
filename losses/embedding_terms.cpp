// Adversarial terms on feature vectors: dodge (away from the clean embedding), feature
// distance (LTP: intermediate features pushed away from the clean image's), impersonate
// (towards a target identity's embedding), and representation collapse (every image's
// features driven to one fixed vector, or their norm grown) so nothing image-specific survives.
#include "data/image_io.h"
#include "losses/family.h"

#include <ATen/ATen.h>

#include <filesystem>

namespace mf::losses {
namespace {

namespace fs = std::filesystem;

struct ImpersonateOptions {
  std::string target;
  template <class V>
  void visit(V& v) {
    v("target", target, "an image of the identity to impersonate, or a folder of them (their mean embedding is the target)");
  }
};

struct CollapseOptions {
  std::string to = "minus_ones";
  template <class V>
  void visit(V& v) {
    v("to", to, "the fixed direction: minus_ones (-1, ..., -1) or ones", config::one_of({"minus_ones", "ones"}));
  }
};

at::Tensor cosine(const at::Tensor& a, const at::Tensor& b) { return at::cosine_similarity(a.flatten(1), b.flatten(1), 1, 1e-8); }

class EmbeddingDodge final : public VictimTerm {
 public:
  EmbeddingDodge(const LossConfig& c, const networks::VictimEnsemble& v) : VictimTerm(c, v, {"embedder"}) {}
  at::Tensor compute_one(StepContext& ctx, networks::Victim& victim, StepMetrics& m, const std::string& p) override {
    at::Tensor sim = cosine(ctx.adversarial(victim), ctx.clean(victim));
    m[p + "cosine_distance"] = (1 - sim).mean().detach();
    return sim.mean();
  }
};

// LTP (Nakka and Salzmann 2021): the squared distance between adversarial and clean
// features, relative to the clean features' energy so layers of any scale weigh alike;
// maximised. On a network cut at a mid-level stage it transfers across architectures.
class FeatureDistance final : public VictimTerm {
 public:
  FeatureDistance(const LossConfig& c, const networks::VictimEnsemble& v) : VictimTerm(c, v, {"embedder"}) {}
  at::Tensor compute_one(StepContext& ctx, networks::Victim& victim, StepMetrics& m, const std::string& p) override {
    const at::Tensor clean = ctx.clean(victim).flatten(1);
    at::Tensor ratio = (ctx.adversarial(victim).flatten(1) - clean).pow(2).sum(1) / clean.pow(2).sum(1).clamp_min(1e-8);
    m[p + "relative_distance"] = ratio.sqrt().mean().detach();
    return -ratio.mean();
  }
};

class EmbeddingImpersonate final : public VictimTerm {
 public:
  EmbeddingImpersonate(const LossConfig& c, const networks::VictimEnsemble& v)
      : VictimTerm(c, v, {"embedder"}), target_(c.options.as<ImpersonateOptions>().target) {
    if (target_.empty()) fail_input("loss embedding_impersonate needs `target`: an image or a folder of the identity");
    if (!fs::exists(target_)) fail_input("embedding_impersonate: target '{}' does not exist", target_);
  }
  at::Tensor compute_one(StepContext& ctx, networks::Victim& victim, StepMetrics& m, const std::string& p) override {
    at::Tensor sim = cosine(ctx.adversarial(victim), target_embedding(victim, ctx.x()).expand_as(ctx.adversarial(victim)));
    m[p + "cosine_to_target"] = sim.mean().detach();
    return (1 - sim).mean();
  }

 private:
  // The mean embedding of the target images, computed once per victim.
  at::Tensor target_embedding(networks::Victim& victim, const at::Tensor& like) {
    auto& cached = embeddings_[victim.name()];
    if (cached.defined()) return cached;
    std::vector<fs::path> files;
    if (fs::is_directory(target_)) {
      for (const auto& f : fs::recursive_directory_iterator(target_)) {
        if (f.is_regular_file() && data::has_image_extension(f.path())) files.push_back(f.path());
      }
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(target_);
    }
    if (files.empty()) fail_input("embedding_impersonate: folder '{}' holds no image", target_);
    at::NoGradGuard no_grad;
    at::Tensor sum;
    for (const auto& f : files) {
      at::Tensor e;
      try {
        e = victim.forward(data::to_tensor(data::read_image(f)).unsqueeze(0).to(like.device()));
      } catch (const data::BadImage& bad) {
        fail_input("embedding_impersonate: '{}' {}", f.string(), bad.what());
      }
      e = e / e.norm(2, 1, true).clamp_min(1e-8);
      sum = sum.defined() ? sum + e : e;
    }
    return cached = sum / static_cast<double>(files.size());
  }

  std::string target_;
  std::map<std::string, at::Tensor> embeddings_;
};

class Collapse final : public VictimTerm {
 public:
  Collapse(const LossConfig& c, const networks::VictimEnsemble& v)
      : VictimTerm(c, v, {"embedder", "classifier"}), sign_(c.options.as<CollapseOptions>().to == "ones" ? 1.0 : -1.0) {}
  at::Tensor compute_one(StepContext& ctx, networks::Victim& victim, StepMetrics& m, const std::string& p) override {
    const at::Tensor& f = ctx.adversarial(victim);
    at::Tensor sim = cosine(f, at::full_like(f, sign_));
    m[p + "cosine_to_fixed"] = sim.mean().detach();
    return (1 - sim).mean();
  }

 private:
  double sign_;
};

class Exploding final : public VictimTerm {
 public:
  Exploding(const LossConfig& c, const networks::VictimEnsemble& v) : VictimTerm(c, v, {"embedder", "classifier"}) {}
  at::Tensor compute_one(StepContext& ctx, networks::Victim& victim, StepMetrics& m, const std::string& p) override {
    at::Tensor norm = ctx.adversarial(victim).flatten(1).norm(2, 1);
    m[p + "norm_ratio"] = (norm.detach() / ctx.clean(victim).flatten(1).norm(2, 1).clamp_min(1e-8)).mean().detach();
    return -at::log(norm + 1e-8).mean();
  }
};

}  // namespace

std::vector<TermEntry> embedding_terms() {
  return {
      {"embedding_dodge", "Embedder: cosine similarity to the clean embedding, minimised (the core SPAM objective).",
       options_of<config::NoOptions>(), {{"embedder"}, make_term<EmbeddingDodge>}},
      {"feature_distance", "Embedder: squared distance to the clean features over their energy, maximised (LTP's feature-level loss).",
       options_of<config::NoOptions>(), {{"embedder"}, make_term<FeatureDistance>}},
      {"embedding_impersonate", "Embedder: cosine distance to the mean embedding of a target identity's images.",
       options_of<ImpersonateOptions>(), {{"embedder"}, make_term<EmbeddingImpersonate>}},
      {"collapse", "Embedder or classifier: drive every image's output vector to one fixed direction (cosine).",
       options_of<CollapseOptions>(), {{"embedder", "classifier"}, make_term<Collapse>}},
      {"exploding", "Embedder or classifier: grow the norm of the output vector (-log norm).", options_of<config::NoOptions>(),
       {{"embedder", "classifier"}, make_term<Exploding>}},
  };
}

}  // namespace mf::losses
