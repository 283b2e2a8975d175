#include "data/loader.h"

#include "core/error.h"
#include "data/image_io.h"
#include "data/random.h"

#include <ATen/ATen.h>

#include <pthread.h>
#include <sched.h>

namespace mf::data {

Batch Batch::to(const c10::Device& device) const {
  Batch b = *this;
  const bool async = images.is_pinned();
  b.images = images.to(device, /*non_blocking=*/async);
  b.labels = labels.to(device, async);
  b.face_boxes = face_boxes.to(device, async);
  return b;
}

LoaderOptions loader_options(const DataConfig& config, bool training, uint64_t seed) {
  LoaderOptions o;
  o.batch_size = config.batch_size;
  o.workers = config.workers;
  o.prefetch = config.prefetch;
  o.shuffle = training;
  o.drop_last = training;
  o.transform = {config.resize, config.crop, training && config.crop_mode == "random", training && config.hflip};
  o.seed = seed;
  return o;
}

std::vector<int64_t> epoch_shard(int64_t n, uint64_t seed, int64_t epoch, bool shuffle, int64_t rank, int64_t world_size) {
  std::vector<int64_t> order;
  if (shuffle) order = permutation(n, mix(seed, static_cast<uint64_t>(epoch)));
  else
    for (int64_t i = 0; i < n; ++i) order.push_back(i);
  std::vector<int64_t> mine;
  const int64_t per_rank = n / world_size;
  for (int64_t k = 0; k < per_rank; ++k) mine.push_back(order[static_cast<size_t>(rank + k * world_size)]);
  return mine;
}

Loader::Loader(std::shared_ptr<const Dataset> dataset, LoaderOptions options, LoaderPosition start)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  if (options_.world_size < 1 || options_.rank < 0 || options_.rank >= options_.world_size) {
    fail_runtime("loader: rank {} is not in a world of {}", options_.rank, options_.world_size);
  }
  per_rank_ = dataset_->size() / options_.world_size;
  const int64_t bs = options_.batch_size;
  batches_per_epoch_ = options_.drop_last ? per_rank_ / bs : (per_rank_ + bs - 1) / bs;
  if (batches_per_epoch_ == 0) {
    fail_input("the dataset has {} images per rank ({} in all, {} rank(s)), fewer than one batch of {}; lower data.batch_size",
               per_rank_, dataset_->size(), options_.world_size, bs);
  }
  start_ = start.epoch * batches_per_epoch_ + start.batch;
  for (int64_t i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { work(); });
}

Loader::~Loader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& t : workers_) t.join();
}

LoaderPosition Loader::position() const {
  std::lock_guard lock(mutex_);
  const int64_t linear = start_ + consumed_;
  return {linear / batches_per_epoch_, linear % batches_per_epoch_};
}

const std::vector<int64_t>& Loader::shard(int64_t epoch) {
  std::lock_guard lock(mutex_);
  auto it = shards_.find(epoch);
  if (it == shards_.end()) {
    it = shards_.emplace(epoch, epoch_shard(dataset_->size(), options_.seed, epoch, options_.shuffle, options_.rank, options_.world_size)).first;
    // Workers run at most `prefetch` batches ahead, so they never need an epoch this old.
    while (shards_.size() > 3 && shards_.begin()->first < epoch - 1) shards_.erase(shards_.begin());
  }
  return it->second;
}

Batch Loader::produce(int64_t ticket) {
  const int64_t linear = start_ + ticket;
  Batch b;
  b.epoch = linear / batches_per_epoch_;
  b.batch = linear % batches_per_epoch_;
  const std::vector<int64_t> items = shard(b.epoch);  // a copy: the cache may drop it meanwhile
  const int64_t first = b.batch * options_.batch_size;
  const int64_t count = std::min(options_.batch_size, per_rank_ - first);

  std::vector<cv::Mat> images;
  std::vector<int64_t> labels;
  std::vector<float> boxes;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t index = items[static_cast<size_t>(first + k)];
    Sample s = dataset_->get(index);
    Rng rng(mix(options_.seed, static_cast<uint64_t>(b.epoch), static_cast<uint64_t>(index)));
    options_.transform.apply(s, rng);
    if (!images.empty() && images[0].size() != s.image.size()) {
      fail_input("images in a batch differ in size ({}x{} and {}x{}, e.g. '{}'); set data.crop (and data.resize) so all have one size",
                 images[0].cols, images[0].rows, s.image.cols, s.image.rows, dataset_->source(index));
    }
    images.push_back(s.image);
    labels.push_back(s.label);
    const Box none{-1, -1, -1, -1};
    const Box& box = s.face_box ? *s.face_box : none;
    boxes.insert(boxes.end(), box.begin(), box.end());
    b.identities.push_back(std::move(s.identity));
    b.indices.push_back(index);
  }
  const auto format = options_.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  b.images = at::empty({count, 3, images[0].rows, images[0].cols}, at::TensorOptions(at::kFloat).memory_format(format));
  for (int64_t k = 0; k < count; ++k) write_tensor(images[static_cast<size_t>(k)], b.images[k]);
  b.labels = at::tensor(labels, at::kLong);
  b.face_boxes = at::tensor(boxes, at::kFloat).view({count, 4});
  if (options_.pin_memory) {
    b.images = b.images.pin_memory();
    b.labels = b.labels.pin_memory();
    b.face_boxes = b.face_boxes.pin_memory();
  }
  return b;
}

void Loader::work() {
  // Decoders run in the gaps that the training step leaves: at idle priority they never take
  // a core from LibTorch's threads (whose parallel regions stall while one of them waits for
  // a core), and while the step waits for a batch the cores are free and the decoders get them.
  sched_param idle{};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
  for (;;) {
    int64_t ticket;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || next_ticket_ < consumed_ + options_.prefetch; });
      if (stopping_) return;
      ticket = next_ticket_++;
    }
    std::pair<Batch, std::exception_ptr> result;
    try {
      result.first = produce(ticket);
    } catch (...) {
      result.second = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      ready_.emplace(ticket, std::move(result));
    }
    changed_.notify_all();
  }
}

Batch Loader::next() {
  if (workers_.empty()) {
    Batch b = produce(consumed_);
    std::lock_guard lock(mutex_);
    ++consumed_;
    return b;
  }
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return ready_.count(consumed_) > 0; });
  auto node = ready_.extract(consumed_);
  ++consumed_;
  lock.unlock();
  changed_.notify_all();
  if (node.mapped().second) std::rethrow_exception(node.mapped().second);
  return std::move(node.mapped().first);
}

}  // namespace mf::data
