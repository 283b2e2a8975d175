#include "tests/support/victims.h"

#include "checkpoints/tensors.h"
#include "data/builders.h"
#include "data/dataset_options.h"
#include "data/loader.h"
#include "networks/builtin.h"
#include "tests/support/files.h"

#include <torch/script.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace mf::test {
namespace {

data::DataConfig synthetic_shapes(int64_t images) {
  data::DataConfig d;
  d.options = config::Options::of(data::SyntheticOptions{.images = images, .classes = 4, .size = 32});
  d.val_fraction = 0;
  d.batch_size = 32;
  d.workers = 1;
  return d;
}

// Accuracy on synthetic images drawn from another seed than the training images.
double held_out_accuracy(networks::TinyNet& net) {
  const data::DataConfig d = synthetic_shapes(512);
  data::Loader loader(data::build_datasets(d, 1).train, data::loader_options(d, false, 0));
  torch::NoGradGuard no_grad;
  net.eval();
  int64_t right = 0, seen = 0;
  for (int64_t i = 0; i < loader.batches_per_epoch(); ++i) {
    auto batch = loader.next();
    right += net.forward(batch.images).argmax(1).eq(batch.labels).sum().item<int64_t>();
    seen += batch.labels.size(0);
  }
  return static_cast<double>(right) / static_cast<double>(seen);
}

}  // namespace

std::filesystem::path trained_tiny_cnn() {
  namespace fs = std::filesystem;
  const fs::path out = victims_dir() / "tiny_cnn_synthetic4_v3.pt";
  if (fs::exists(out)) return out;
  torch::manual_seed(0);
  const data::DataConfig d = synthetic_shapes(1024);
  data::Loader loader(data::build_datasets(d, 0).train, data::loader_options(d, true, 0));
  auto net = networks::make_builtin("tiny_cnn", 4, 0);
  // Cosine decay to zero: with a constant rate the last steps leave the weights (and the batch
  // norm statistics) wherever the last noisy updates put them, and the accuracy depended on
  // the CPU's rounding (74 % on one kernel path, 92 % on another).
  const int steps = 400;
  const double lr = 3e-3;
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(lr));
  net->train();
  for (int step = 0; step < steps; ++step) {
    for (auto& group : adam.param_groups()) group.options().set_lr(lr * 0.5 * (1 + std::cos(std::numbers::pi * step / steps)));
    auto batch = loader.next();
    auto loss = torch::cross_entropy_loss(net->forward(batch.images), batch.labels);
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  // The tests that use it need a victim that really classifies.
  const double accuracy = held_out_accuracy(*net);
  std::printf("trained tiny_cnn: held-out accuracy %.3f\n", accuracy);
  if (accuracy < 0.9) {
    throw std::runtime_error("trained_tiny_cnn: held-out accuracy " + std::to_string(accuracy) + " is below 0.9");
  }
  fs::create_directories(out.parent_path());
  const fs::path tmp = fs::path(out).replace_extension(".tmp" + std::to_string(::getpid()));
  checkpoints::save_module(*net, tmp);
  fs::rename(tmp, out);
  return out;
}

void write_box_scoring_detector(const std::filesystem::path& path) {
  torch::manual_seed(4);
  torch::jit::Module m("Detector");
  m.register_parameter("w", torch::randn({3, 3, 3, 3}), false);
  m.define(R"(
def forward(self, x):
  s = torch.sigmoid(torch.conv2d(x, self.w, None, [1, 1], [1, 1]).mean([2, 3]))
  boxes = s.unsqueeze(2) * torch.tensor([2.0, 3.0, 9.0, 12.0], dtype=x.dtype, device=x.device)
  return torch.cat([boxes, s.unsqueeze(2)], 2)

def score_boxes(self, x, boxes):
  h = torch.conv2d(x, self.w, None, [1, 1], [1, 1])
  return torch.sigmoid(h.mean([1, 2, 3]).view(-1, 1) + h.std([1, 2, 3]).view(-1, 1) * 0.1 * boxes.mean(2))
)");
  m.save(path.string());
}

}  // namespace mf::test
