// The `dist` section: data-parallel training over c10d process groups.
#pragma once

#include "core/config/config.h"

#include <string>

namespace mf {

struct DistConfig {
  std::string backend = "auto";
  double timeout_s = 300;
  double bucket_mb = 25;

  template <class V>
  void visit(V& v) {
    v("backend", backend, "collective backend: auto (nccl on CUDA, gloo on CPU), nccl or gloo",
      config::one_of({"auto", "nccl", "gloo"}));
    v("timeout_s", timeout_s, "seconds a collective may wait for a missing rank before the run fails", config::positive());
    v("bucket_mb", bucket_mb, "size of the gradient all-reduce buckets in MiB", config::positive());
  }
};

}  // namespace mf
