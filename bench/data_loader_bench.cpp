// Data-loader throughput: decode + resize + random crop + flip + batch at 224x224 from a
// folder of 1024x768 JPEGs (made on first use), with 1 and 2 worker threads.
// bench/data_loader.sh runs it beside the PyTorch reference (data_loader_reference.py).
//
//   data_loader_bench DIR [IMAGES] [WORKERS...]
#include "data/builders.h"
#include "data/dataset_options.h"
#include "data/image_io.h"
#include "data/loader.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <cstdio>

using namespace mf;
namespace fs = std::filesystem;

// Photo-like JPEGs: synthetic pictures enlarged to 1024x768 with fine noise, quality 90.
void make_images(const fs::path& dir, int count) {
  fs::create_directories(dir);
  data::DataConfig c;
  c.options = config::Options::of(data::SyntheticOptions{.images = count, .classes = 8, .size = 256});
  c.val_fraction = 0;
  auto ds = data::build_synthetic(c, 1).train;
  for (int i = 0; i < count; ++i) {
    const fs::path path = dir / fmt::format("img_{:04d}.jpg", i);
    if (fs::exists(path)) continue;
    cv::Mat big, noise(768, 1024, CV_8UC3), bgr;
    cv::resize(ds->get(i).image, big, {1024, 768}, 0, 0, cv::INTER_CUBIC);
    cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(8));
    cv::add(big, noise, big);
    cv::cvtColor(big, bgr, cv::COLOR_RGB2BGR);
    cv::imwrite(path.string(), bgr, {cv::IMWRITE_JPEG_QUALITY, 90});
  }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: data_loader_bench DIR [IMAGES] [WORKERS...]\n");
    return 2;
  }
  const fs::path dir = argv[1];
  const int images = argc > 2 ? std::atoi(argv[2]) : 500;
  std::vector<int> workers;
  for (int i = 3; i < argc; ++i) workers.push_back(std::atoi(argv[i]));
  if (workers.empty()) workers = {1, 2};
  make_images(dir, images);

  data::DataConfig c;
  c.dataset = "image_folder";
  c.options = config::Options::of(data::ImageFolderOptions{.root = dir.string()});
  c.val_fraction = 0;
  c.resize = 224;
  c.crop = 224;
  c.batch_size = 32;
  auto ds = data::build_datasets(c, 0).train;
  for (int w : workers) {
    c.workers = w;
    data::Loader loader(ds, data::loader_options(c, true, 0));
    for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) loader.next();  // warm-up epoch
    const auto start = std::chrono::steady_clock::now();
    int64_t seen = 0;
    for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) seen += loader.next().images.size(0);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("maskforge workers=%d images_per_s=%.1f\n", w, seen / seconds);
  }
  return 0;
}
