// Loader: turns a dataset into batches. Worker threads decode and transform ahead of the
// trainer into a bounded queue; the batches, their order and their augmentations are a
// pure function of (seed, epoch, rank, world size): the same with any number of workers,
// and the same after resuming at a saved position.
#pragma once

#include "data/data_config.h"
#include "data/dataset.h"
#include "data/transforms.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace mf::data {

struct Batch {
  at::Tensor images;      // [N, 3, H, W] float in [0, 1]; channels-last memory if asked
  at::Tensor labels;      // [N] int64; -1 when unknown
  at::Tensor face_boxes;  // [N, 4] float (x0, y0, x1, y1) in pixels of `images`; -1 when unknown
  std::vector<std::string> identities;
  std::vector<int64_t> indices;  // dataset indices
  int64_t epoch = 0, batch = 0;  // where this batch sits in the stream

  // The batch on `device`; from pinned memory the copy does not block.
  Batch to(const c10::Device& device) const;
};

struct LoaderOptions {
  int64_t batch_size = 16;
  int64_t workers = 2;   // 0: decode in the calling thread
  int64_t prefetch = 4;  // batches decoded ahead
  bool shuffle = true;
  bool drop_last = true;  // else the last, smaller batch of an epoch is kept
  Transform transform;
  uint64_t seed = 0;
  int64_t rank = 0, world_size = 1;
  bool pin_memory = false;     // page-locked batches, for fast copies to a GPU
  bool channels_last = false;  // images in NHWC memory (still indexed [N, 3, H, W])
};

// The loader settings of `config` for training (shuffled, augmented, full batches only) or
// validation (in order, centre crop, no flip, every image).
LoaderOptions loader_options(const DataConfig& config, bool training, uint64_t seed);

// A place in the stream of batches. Saved in checkpoints.
struct LoaderPosition {
  int64_t epoch = 0;
  int64_t batch = 0;  // index of the next batch within the epoch
};

// The dataset items one rank reads in one epoch: a permutation fixed by (seed, epoch) (or
// 0..n-1 without shuffling) dealt round-robin to the ranks, every rank getting n / world
// items. The shards of one epoch are disjoint; the n mod world items left over differ per epoch.
std::vector<int64_t> epoch_shard(int64_t n, uint64_t seed, int64_t epoch, bool shuffle, int64_t rank, int64_t world_size);

class Loader {
 public:
  Loader(std::shared_ptr<const Dataset> dataset, LoaderOptions options, LoaderPosition start = {});
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  // The next batch; the first batch of epoch e+1 follows the last of epoch e.
  Batch next();
  // Where the next call to next() reads.
  LoaderPosition position() const;

 private:
  Batch produce(int64_t ticket);
  const std::vector<int64_t>& shard(int64_t epoch);
  void work();

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  int64_t per_rank_ = 0;
  int64_t batches_per_epoch_ = 0;
  int64_t start_ = 0;  // linear position (epoch * batches_per_epoch + batch) of ticket 0

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int64_t consumed_ = 0;     // tickets handed to the caller
  int64_t next_ticket_ = 0;  // next ticket a worker takes
  bool stopping_ = false;
  std::map<int64_t, std::pair<Batch, std::exception_ptr>> ready_;
  std::map<int64_t, std::vector<int64_t>> shards_;  // by epoch; the last few are kept
  std::vector<std::thread> workers_;
};

}  // namespace mf::data
