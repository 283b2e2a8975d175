// Precompiled for targets that use torch::nn, optim, serialize or jit: parsing these
// headers costs about 30 s per translation unit; loading the precompiled form about 9 s.
#pragma once

#include "core/pch_light.h"

#include <torch/script.h>
#include <torch/torch.h>
