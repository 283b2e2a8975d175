#include "export/twin.h"

#include "checkpoints/files.h"
#include "core/error.h"
#include "core/version.h"

#include <ATen/ATen.h>

namespace mf::exporting {
namespace {

// Copies the direct parameters and buffers of each child of `module` into a submodule of
// `twin` with the same name, and checks that every tensor of `module` arrived.
void copy_tensors(const torch::nn::Module& module, torch::jit::Module& twin) {
  std::set<std::string> copied;
  for (const auto& child : module.named_children()) {
    torch::jit::Module sub(child.key());
    for (const auto& p : child.value()->named_parameters(false)) {
      sub.register_parameter(p.key(), p.value().detach().clone(), false);
      copied.insert(child.key() + "." + p.key());
    }
    for (const auto& b : child.value()->named_buffers(false)) {
      sub.register_buffer(b.key(), b.value().detach().clone());
      copied.insert(child.key() + "." + b.key());
    }
    twin.register_module(child.key(), sub);
  }
  for (const auto& p : module.named_parameters(false)) {
    twin.register_parameter(p.key(), p.value().detach().clone(), false);
    copied.insert(p.key());
  }
  std::vector<std::string> missing;
  for (const auto& p : module.named_parameters()) {
    if (!copied.count(p.key())) missing.push_back(p.key());
  }
  for (const auto& b : module.named_buffers()) {
    if (!copied.count(b.key())) missing.push_back(b.key());
  }
  if (!missing.empty()) fail_runtime("export: tensors of the trained module have no place in the twin: {}", fmt::join(missing, ", "));
}

void add_metadata(torch::jit::Module& twin, const std::string& kind, const std::string& arch, const ExportInfo& info) {
  twin.register_attribute("maskforge_kind", c10::StringType::get(), kind);
  twin.register_attribute("arch", c10::StringType::get(), arch);
  twin.register_attribute("eps", c10::FloatType::get(), info.eps);
  twin.register_attribute("config_sha256", c10::StringType::get(), info.config_sha256);
  twin.register_attribute("toolkit_version", c10::StringType::get(), std::string(kVersion));
  twin.register_attribute("run_name", c10::StringType::get(), info.run_name);
}

// The budget: eps, or its texture-scaled map (losses/eps.cpp, the same computation).
std::string script_budget(const ExportInfo& info) {
  if (info.eps_config.scaling != "texture") return "def budget(self, x):\n    return torch.full([1, 1, 1, 1], self.eps, dtype=x.dtype, device=x.device)\n";
  const auto& o = info.eps_config.scaling_options.as<losses::TextureOptions>();
  return fmt::format(R"(def budget(self, x):
    lum = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
    pad = {pad}
    if lum.size(2) > pad and lum.size(3) > pad:
        mean = torch.avg_pool2d(torch.reflection_pad2d(lum, [pad, pad, pad, pad]), [{k}, {k}], [1, 1])
        square = torch.avg_pool2d(torch.reflection_pad2d(lum * lum, [pad, pad, pad, pad]), [{k}, {k}], [1, 1])
    else:
        mean = torch.avg_pool2d(torch.replication_pad2d(lum, [pad, pad, pad, pad]), [{k}, {k}], [1, 1])
        square = torch.avg_pool2d(torch.replication_pad2d(lum * lum, [pad, pad, pad, pad]), [{k}, {k}], [1, 1])
    std = torch.sqrt(torch.clamp(square - mean * mean, min=0.0)) + 0.001
    lo = torch.zeros_like(torch.amin(std, [2, 3], True))
    hi = {cap} / torch.amin(std, [2, 3], True)
    for i in range(50):
        mid = (lo + hi) / 2
        above = torch.mean(torch.clamp(std * mid, max={cap}), [2, 3], True) > {mean}
        hi = torch.where(above, mid, hi)
        lo = torch.where(above, lo, mid)
    if {full_std} > 0.0:
        hi = torch.clamp(hi, max=1.0 / {full_std})
    return torch.clamp(std * hi, max={cap}) * self.eps
)",
                     fmt::arg("pad", (o.window | 1) / 2), fmt::arg("k", o.window | 1), fmt::arg("cap", fmt::format("{:.17g}", o.max_factor)),
                     fmt::arg("mean", fmt::format("{:.17g}", o.mean)), fmt::arg("full_std", fmt::format("{:.17g}", o.full_std)));
}

}  // namespace

torch::jit::Module generator_twin(const networks::Generator& generator, const ExportInfo& info, const networks::Guide* guide) {
  if (generator.guided() != (guide != nullptr)) fail_runtime("export: a guided generator is exported with its guide, and only it");
  torch::jit::Module twin("MaskforgeGenerator");
  copy_tensors(generator, twin);
  add_metadata(twin, "generator", generator.arch(), info);
  twin.register_attribute("guided", c10::BoolType::get(), guide != nullptr);
  // The perturbation from the budget `e`: one pass, or the guided passes of Generator::forward.
  std::string passes = "    return torch.tanh(self.unbounded(x)) * e\n";
  if (guide) {
    for (size_t i = 0; i < guide->victims().size(); ++i) {
      // The module the guide ran (frozen: batch norm folded), so that the twin's gradient
      // is the trained generator's to the last bit, not the unfrozen file's.
      const networks::Victim& victim = *guide->victims()[i];
      const torch::jit::Module* running = victim.script();
      if (!running) fail_runtime("export: guide victim '{}' is not a TorchScript network", victim.name());
      // A copy in the state the victim keeps it: eval mode, no parameter requiring gradients.
      twin.register_module(fmt::format("guide{}", i), running->clone());
    }
    twin.define(guide->script());
    passes = fmt::format(R"(    away: List[Tensor] = []
    raw = self.unbounded(torch.cat([x, self.guidance(x, away)], 1))
    for _ in range({more}):
        seen = torch.clamp(x + torch.tanh(raw) * e, 0.0, 1.0)
        raw = raw + self.unbounded(torch.cat([seen, self.guidance(seen, away)], 1))
    return torch.tanh(raw) * e
)",
                         fmt::arg("more", generator.guide_steps() - 1));
  }
  twin.register_attribute("size_multiple", c10::IntType::get(), generator.size_multiple());
  // The scale it learned at: protect runs it there on larger photos (--work-megapixels auto).
  twin.register_attribute("train_size", c10::ListType::ofInts(), c10::List<int64_t>(info.train_size));
  twin.define(generator.script_raw());
  twin.define(script_budget(info));
  twin.define(R"(
def unbounded(self, inputs):
    m = self.size_multiple
    h = inputs.size(2)
    w = inputs.size(3)
    ph = max((h + m - 1) // m, 2) * m - h
    pw = max((w + m - 1) // m, 2) * m - w
    padded = inputs
    if ph > 0 or pw > 0:
        if ph < h and pw < w:
            padded = torch.reflection_pad2d(padded, [0, pw, 0, ph])
        else:
            padded = torch.replication_pad2d(padded, [0, pw, 0, ph])
    return self.raw(padded)[:, :, :h, :w]
)");
  twin.define("def perturbation(self, x):\n    e = self.budget(x)\n" + passes + R"(
def forward(self, x):
    return torch.clamp(x + self.perturbation(x), 0.0, 1.0)
)");
  twin.eval();
  return twin;
}

torch::jit::Module uep_twin(const protection::UniversalPerturbation& uep, const ExportInfo& info) {
  torch::jit::Module twin("MaskforgeUniversalPerturbation");
  twin.register_buffer("delta", uep.delta().detach().clone());
  add_metadata(twin, "uep", "uep", info);
  twin.define(R"(
def perturbation(self, x):
    d = self.delta
    if d.size(2) != x.size(2) or d.size(3) != x.size(3):
        d = torch.upsample_bilinear2d(d, [x.size(2), x.size(3)], False, None, None)
    return d.expand(x.size(0), -1, -1, -1)

def forward(self, x):
    return torch.clamp(x + self.perturbation(x), 0.0, 1.0)
)");
  twin.eval();
  return twin;
}

bool is_maskforge_export(const torch::jit::Module& module) { return module.hasattr("maskforge_kind"); }

bool needs_gradients(const torch::jit::Module& module) { return module.hasattr("guided") && module.attr("guided").toBool(); }

void save_checked(torch::jit::Module& twin, const std::function<at::Tensor(const at::Tensor&)>& reference, const fs::path& out, double tolerance) {
  at::AutoGradMode gradients(needs_gradients(twin));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  // Busy images, and a flat one (where texture scaling's full_std bound acts).
  std::vector<at::Tensor> inputs = {at::rand({2, 3, 64, 48}, gen), at::rand({1, 3, 37, 53}, gen), 0.5 + 0.01 * at::rand({1, 3, 40, 40}, gen)};
  // Same seed before each call: generators with noise channels draw the same noise.
  auto agree = [&](torch::jit::Module& m, const char* what) {
    for (const auto& x : inputs) {
      torch::manual_seed(11);
      at::Tensor expected = reference(x).detach();
      torch::manual_seed(11);
      at::Tensor got = m.run_method("perturbation", x).toTensor().detach();
      const double diff = (got - expected).abs().max().item<double>();
      if (!(diff <= tolerance)) {
        fail_runtime("export parity check failed: {} differs from the trained module by {:g} (tolerance {:g}) on a {}x{} image", what, diff,
                     tolerance, x.size(3), x.size(2));
      }
    }
  };
  agree(twin, "the TorchScript twin");
  fs::create_directories(out.parent_path().empty() ? fs::path(".") : out.parent_path());
  const fs::path tmp = out.string() + ".tmp";
  twin.save(tmp.string());
  torch::jit::Module reloaded = torch::jit::load(tmp.string());
  try {
    agree(reloaded, "the saved file, reloaded");
  } catch (...) {
    fs::remove(tmp);
    throw;
  }
  checkpoints::sync_path(tmp);
  fs::rename(tmp, out);
}

}  // namespace mf::exporting
