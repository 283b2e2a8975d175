// Comparing two run configs key by key, to judge whether a checkpoint fits a config.
#pragma once

#include "protection/config.h"

#include <string>
#include <vector>

namespace mf::protection {

// Keys whose difference changes the shapes a checkpoint holds (the generator, the kind of
// trainer and its shape options): resuming across them is refused.
std::vector<std::string> incompatible_keys(const Config& saved, const Config& current);
// Every other key that differs (run.* excluded): resuming is allowed, but not exact.
std::vector<std::string> changed_keys(const Config& saved, const Config& current);

}  // namespace mf::protection
