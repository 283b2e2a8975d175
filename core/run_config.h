// The `run` section: where a run's folder goes and how the process is set up.
#pragma once

#include "core/config/config.h"
#include "core/log.h"

#include <string>
#include <vector>

namespace mf {

struct RunConfig {
  std::string name;  // empty: the config file's stem
  std::string out_dir = "runs";
  std::string device = "auto";
  int64_t seed = 0;
  std::string log_level = "info";

  template <class V>
  void visit(V& v) {
    v("name", name, "run folder name under out_dir; empty means the config file's stem");
    v("out_dir", out_dir, "folder that holds run folders");
    v("device", device, "auto (a GPU if one is visible, else the CPU), cpu, cuda or cuda:N");
    v("seed", seed, "seed of every random choice: data order, initialisation, augmentation", config::non_negative());
    v("log_level", log_level, "console and log-file verbosity",
      config::one_of({std::begin(log::kLevelNames), std::end(log::kLevelNames)}));
  }
};

}  // namespace mf
