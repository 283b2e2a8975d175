#!/usr/bin/env bash
# Protection strength against image quality on CIFAR-10: trains configs/spam_cifar.yaml's
# generator (the LTP feature loss) under several budgets (plain L-inf, texture-scaled) and
# weights of the ssim quality term (the recipe: full 8/255 with weight 5), STEPS steps each
# (default 200), then evaluates them beside per-image PGD at 2, 4 and 8/255
# (configs/eval_cifar_ssim.yaml). The report's "accuracy against SSIM" charts are the curves,
# as protected and after JPEG 75.
# Runs whose export exists are skipped.
#
#   scripts/strength-vs-ssim.sh [BUILD_DIR]      (after make build or make test)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
steps="${STEPS:-200}"
scripts/cifar-victims.sh vgg  # the recipe trains against the VGG-style CNN too
variant() {  # NAME --set ... : one point of the curve
  local name=$1; shift
  local run="ssim_curve_$name"
  [[ -f runs/$run/export/generator.ts.pt ]] && return
  rm -rf "runs/$run"
  # At a constant learning rate, as the README's table was measured (the recipe's decay came later).
  "$build/maskforge" train configs/spam_cifar.yaml --set "run.name=$run" --set "trainer.steps=$steps" --set trainer.lr_floor=1 "$@"
  "$build/maskforge" export "runs/$run" --out "runs/$run/export/generator.ts.pt"
}
full() { echo "eps={schedule: constant, value: $1, scaling: none}"; }
texture() { echo "eps={schedule: constant, value: 8/255, scaling: texture, max_factor: 1, mean: $1}"; }
ltp='losses=[{name: feature_distance}]'
with_ssim() { echo "losses=[{name: feature_distance}, {name: ssim, weight: $1}]"; }
variant full_4 --set "$(full 4/255)" --set "$ltp"
variant full_6 --set "$(full 6/255)" --set "$ltp"
variant full_8 --set "$(full 8/255)" --set "$ltp"
variant texture_06 --set "$(texture 0.6)" --set "$ltp"
variant texture_08 --set "$(texture 0.8)" --set "$ltp"
variant texture_08_ssim3 --set "$(texture 0.8)" --set "$(with_ssim 3)"
variant texture_08_ssim5 --set "$(texture 0.8)" --set "$(with_ssim 5)"
variant texture_08_ssim10 --set "$(texture 0.8)" --set "$(with_ssim 10)"
variant full_8_ssim5 --set "$(full 8/255)" --set "$(with_ssim 5)"   # the recipe
variant full_8_ssim10 --set "$(full 8/255)" --set "$(with_ssim 10)"
"$build/maskforge" eval configs/eval_cifar_ssim.yaml
