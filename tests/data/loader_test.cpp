// The loader: order independent of threads, disjoint equal shards, exact resume.
#include "data/builders.h"
#include "data/dataset_options.h"
#include "data/loader.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <set>

namespace mf::data {
namespace {

std::shared_ptr<const Dataset> synthetic(int64_t images, int64_t size = 16) {
  DataConfig c;
  c.options.as<SyntheticOptions>() = {.images = images, .classes = 4, .size = size};
  c.val_fraction = 0;
  return build_synthetic(c, 7).train;
}

LoaderOptions options(int64_t workers, int64_t prefetch) {
  LoaderOptions o;
  o.batch_size = 5;
  o.workers = workers;
  o.prefetch = prefetch;
  o.seed = 11;
  o.transform = {.resize = 0, .crop = 12, .random_crop = true, .hflip = true};
  return o;
}

std::vector<Batch> take(Loader& loader, int n) {
  std::vector<Batch> out;
  for (int i = 0; i < n; ++i) out.push_back(loader.next());
  return out;
}

void expect_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].indices, b[i].indices) << "batch " << i;
    EXPECT_EQ(a[i].epoch, b[i].epoch);
    EXPECT_EQ(a[i].batch, b[i].batch);
    EXPECT_TRUE(at::equal(a[i].images, b[i].images)) << "batch " << i;  // same crops and flips too
    EXPECT_TRUE(at::equal(a[i].labels, b[i].labels));
  }
}

TEST(Loader, OrderAndAugmentationDoNotDependOnWorkersOrPrefetch) {
  auto ds = synthetic(40);
  Loader reference(ds, options(0, 1));
  auto expected = take(reference, 20);  // 8 batches per epoch: crosses two epoch boundaries
  for (auto [workers, prefetch] : {std::pair{1, 1}, {2, 4}, {8, 2}, {8, 16}}) {
    Loader loader(ds, options(workers, prefetch));
    SCOPED_TRACE(testing::Message() << workers << " workers, prefetch " << prefetch);
    expect_same(take(loader, 20), expected);
  }
}

TEST(Loader, EpochsAreShuffledDifferentlyAndCoverTheData) {
  auto ds = synthetic(40);
  Loader loader(ds, options(2, 4));
  std::vector<int64_t> e0, e1;
  for (int b = 0; b < loader.batches_per_epoch(); ++b) {
    auto x = loader.next().indices;
    e0.insert(e0.end(), x.begin(), x.end());
  }
  for (int b = 0; b < loader.batches_per_epoch(); ++b) {
    auto x = loader.next().indices;
    e1.insert(e1.end(), x.begin(), x.end());
  }
  EXPECT_NE(e0, e1);
  EXPECT_EQ(std::set<int64_t>(e0.begin(), e0.end()).size(), 40u);
  EXPECT_EQ(std::set<int64_t>(e1.begin(), e1.end()).size(), 40u);
}

TEST(Loader, ShardsAreDisjointEqualAndCoverTheEpoch) {
  for (int64_t world : {1, 2, 3, 4}) {
    const int64_t n = 36;  // divisible by every world size here
    std::set<int64_t> seen;
    for (int64_t rank = 0; rank < world; ++rank) {
      auto shard = epoch_shard(n, 5, 3, true, rank, world);
      EXPECT_EQ(static_cast<int64_t>(shard.size()), n / world);
      for (int64_t i : shard) EXPECT_TRUE(seen.insert(i).second) << "item " << i << " in two shards";
    }
    EXPECT_EQ(static_cast<int64_t>(seen.size()), n);
  }
  // Not divisible: equal lengths, disjoint, fewer than `world` items left out.
  std::set<int64_t> seen;
  for (int64_t rank = 0; rank < 4; ++rank) {
    auto shard = epoch_shard(39, 5, 0, true, rank, 4);
    EXPECT_EQ(shard.size(), 9u);
    seen.insert(shard.begin(), shard.end());
  }
  EXPECT_EQ(seen.size(), 36u);
}

TEST(Loader, RanksGetTheSameNumberOfBatches) {
  auto ds = synthetic(43);
  std::set<int64_t> all;
  for (int64_t rank = 0; rank < 3; ++rank) {
    auto o = options(1, 2);
    o.rank = rank, o.world_size = 3;
    Loader loader(ds, o);
    EXPECT_EQ(loader.batches_per_epoch(), 2);  // 14 items per rank, batches of 5
    for (int b = 0; b < 2; ++b) {
      for (int64_t i : loader.next().indices) EXPECT_TRUE(all.insert(i).second);
    }
  }
}

TEST(Loader, ResumesExactlyMidEpochAndAcrossEpochs) {
  auto ds = synthetic(40);
  Loader straight(ds, options(2, 3));
  auto expected = take(straight, 19);
  for (int k : {3, 8, 13}) {
    Loader first(ds, options(2, 3));
    take(first, k);
    const LoaderPosition saved = first.position();
    EXPECT_EQ(saved.epoch * 8 + saved.batch, k);
    Loader resumed(ds, options(3, 2), saved);  // other workers and prefetch on purpose
    auto rest = take(resumed, 19 - k);
    expect_same(rest, std::vector<Batch>(expected.begin() + k, expected.end()));
  }
}

TEST(Loader, KeepsTheLastSmallerBatchWhenAsked) {
  auto o = options(1, 2);
  o.drop_last = false;
  Loader loader(synthetic(12), o);
  EXPECT_EQ(loader.batches_per_epoch(), 3);
  take(loader, 2);
  EXPECT_EQ(loader.next().images.size(0), 2);
}

TEST(Loader, TooFewImagesForOneBatchIsBadInput) {
  auto o = options(1, 2);
  o.batch_size = 50;
  EXPECT_THROW(Loader(synthetic(12), o), InputError);
}

TEST(Loader, BatchesAreFloatImagesInUnitRange) {
  Loader loader(synthetic(10), options(1, 1));
  Batch b = loader.next();
  EXPECT_EQ(b.images.sizes(), (at::IntArrayRef{5, 3, 12, 12}));
  EXPECT_EQ(b.images.scalar_type(), at::kFloat);
  EXPECT_GE(b.images.min().item<float>(), 0.f);
  EXPECT_LE(b.images.max().item<float>(), 1.f);
  EXPECT_EQ(b.face_boxes.sizes(), (at::IntArrayRef{5, 4}));
}

TEST(Loader, ChannelsLastBatchesHoldTheSameImages) {
  auto ds = synthetic(20);
  auto nhwc = options(2, 2);
  nhwc.channels_last = true;
  Loader plain(ds, options(2, 2)), channels_last(ds, nhwc);
  for (int i = 0; i < 3; ++i) {
    Batch a = plain.next(), b = channels_last.next();
    EXPECT_TRUE(a.images.is_contiguous());
    EXPECT_TRUE(b.images.is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(at::equal(a.images, b.images)) << "batch " << i;
  }
}

}  // namespace
}  // namespace mf::data
