#include "tests/support/victims.h"

#include "checkpoints/tensors.h"
#include "data/builders.h"
#include "data/dataset_options.h"
#include "data/loader.h"
#include "networks/builtin.h"
#include "tests/support/files.h"

#include <torch/torch.h>
#include <unistd.h>

namespace mf::test {

std::filesystem::path trained_tiny_cnn() {
  namespace fs = std::filesystem;
  const fs::path out = binary_dir() / "test_victims" / "tiny_cnn_synthetic4_v2.pt";
  if (fs::exists(out)) return out;
  torch::manual_seed(0);
  data::DataConfig d;
  d.options = config::Options::of(data::SyntheticOptions{.images = 1024, .classes = 4, .size = 32});
  d.val_fraction = 0;
  d.batch_size = 32;
  d.workers = 1;
  data::Loader loader(data::build_datasets(d, 0).train, data::loader_options(d, true, 0));
  auto net = networks::make_builtin("tiny_cnn", 4, 0);
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(3e-3));
  net->train();
  for (int step = 0; step < 300; ++step) {
    auto batch = loader.next();
    auto loss = torch::cross_entropy_loss(net->forward(batch.images), batch.labels);
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  fs::create_directories(out.parent_path());
  const fs::path tmp = fs::path(out).replace_extension(".tmp" + std::to_string(::getpid()));
  checkpoints::save_module(*net, tmp);
  fs::rename(tmp, out);
  return out;
}

}  // namespace mf::test
