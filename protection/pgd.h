// Per-image projected gradient descent: momentum iterative sign steps (MI-FGSM) in the
// L-inf ball, or normalised steps in the L2 ball, through the robustness transforms. The
// `pgd` trainer's baseline and the strongest mode of `maskforge protect`.
#pragma once

#include "protection/protection.h"

namespace mf::protection {

// Returns delta for the batch within the eps ball (L2: radius eps * sqrt(3 H W), the same
// root-mean-square budget) and inside the valid pixel range; `metrics` receives the final
// objective's metrics.
at::Tensor pgd_protect(Protection& protection, const data::Batch& batch, double eps, const PgdOptions& options, uint64_t seed,
                       losses::StepMetrics* metrics = nullptr);

}  // namespace mf::protection
