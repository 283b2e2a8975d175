// Protect throughput: exported generators (loaded and applied as `maskforge protect`
// does: tiled above 8 megapixels) against per-image PGD with the same eps, on photos of 0.25, 2 and 12
// megapixels. The ratio is the point: a generator is one forward pass per image, PGD is
// ITERATIONS forward and backward passes of every victim.
//
//   protect_bench VICTIM.pt [PGD_ITERATIONS]
//
// VICTIM.pt: a TorchScript classifier with its sidecar (bench/protect.sh exports a
// randomly initialised torchvision ResNet-50: its speed is that of the trained one).
#include "export/twin.h"
#include "networks/generator.h"
#include "protect/exported_model.h"
#include "protection/pgd.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

using namespace mf;

namespace {

double seconds_of(const std::function<void()>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Exported {
  std::string name;
  double gmac_per_mp;
  std::unique_ptr<protect::ExportedModel> method;  // as `maskforge protect` loads it
};

Exported exported(const std::string& name, const std::string& arch, config::Options options, double eps, protect::ModelOptions sizes) {
  networks::GeneratorConfig g;
  g.arch = arch;
  g.options = std::move(options);
  auto generator = networks::build_generator(g);
  generator->eval();
  const auto file = std::filesystem::temp_directory_path() / ("maskforge_bench_" + arch + ".pt");
  exporting::generator_twin(*generator, {"bench", "", eps, {}}).save(file.string());
  sizes.path = file.string();
  auto method = protect::load_exported(sizes, torch::kCPU);
  std::filesystem::remove(file);
  return {name, generator->macs_per_megapixel() / 1e9, std::move(method)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: protect_bench VICTIM.pt [PGD_ITERATIONS]\n");
    return 2;
  }
  const int64_t iterations = argc > 2 ? std::atoll(argv[2]) : 50;
  const double eps = 8.0 / 255;
  torch::manual_seed(0);
  // The SPAM layout (a U-Net of 6 levels, 32 channels at full resolution), the quickstart's
  // light ResNet generator, and that generator at a working size of 1 megapixel.
  const auto unet = config::Options::of(networks::UnetOptions{.width = 32, .depth = 6});
  const auto resnet = config::Options::of(networks::ResnetOptions{.width = 16, .blocks = 2});
  std::vector<Exported> generators;
  generators.push_back(exported("unet w32 d6", "unet", unet, eps, {.work_megapixels = "0"}));
  generators.push_back(exported("resnet w16 b2", "resnet", resnet, eps, {.work_megapixels = "0"}));
  generators.push_back(exported("resnet w16 b2, 1 MP working size", "resnet", resnet, eps, {.work_megapixels = "1"}));
  protection::Config config;
  networks::VictimConfig v;
  v.name = "victim";
  v.source = "torchscript";
  v.source_options = config::Options::of(networks::TorchscriptSourceOptions{.path = argv[1]});
  config.victims = {v};
  losses::LossConfig l;
  l.name = "untargeted_ce";
  l.options = losses::loss_terms().at("untargeted_ce").options();
  config.losses = {l};
  protection::Protection protection(config, torch::kCPU);
  protection::PgdOptions pgd{.iterations = iterations};

  std::printf("| photo | PGD, %lld iterations | ", static_cast<long long>(iterations));
  for (const auto& g : generators) std::printf("%s (%.0f GMAC/MP) | ratio | ", g.name.c_str(), g.gmac_per_mp);
  std::printf("\n|---|---|");
  for (size_t i = 0; i < generators.size(); ++i) std::printf("---|---|");
  std::printf("\n");
  for (auto [w, h] : {std::pair<int64_t, int64_t>{612, 408}, {1732, 1155}, {4243, 2828}}) {
    auto x = at::rand({1, 3, h, w});
    const double mp = static_cast<double>(w * h) / 1e6;
    data::Batch b{x, at::full({1}, -1, at::kLong), at::full({1, 4}, -1.0)};
    const double tp = seconds_of([&] { protection::pgd_protect(protection, b, eps, pgd, 0); });
    std::printf("| %.2f MP (%lldx%lld) | %.4f MP/s |", mp, static_cast<long long>(w), static_cast<long long>(h), mp / tp);
    for (auto& g : generators) {
      g.method->perturbation(x.slice(2, 0, 64).slice(3, 0, 64));  // warm-up
      const double tg = seconds_of([&] { g.method->perturbation(x); });
      std::printf(" %.3f MP/s | %.1fx |", mp / tg, tp / tg);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}
