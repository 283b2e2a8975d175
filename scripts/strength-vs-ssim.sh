#!/usr/bin/env bash
# Protection strength against image quality on CIFAR-10: trains configs/spam_cifar.yaml's
# generator (the LTP recipe) under several budgets and quality terms, STEPS steps each
# (default 200), then evaluates them with per-image PGD at 2, 4 and 8/255 in
# configs/eval_cifar_ssim.yaml. The report's "accuracy against SSIM" charts are the curves.
# Runs whose export exists are skipped.
#
#   scripts/strength-vs-ssim.sh [BUILD_DIR]      (after make build or make test)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
steps="${STEPS:-200}"
scripts/cifar-victims.sh
variant() {  # NAME --set ... : one point of the curve
  local name=$1; shift
  local run="ssim_curve_$name"
  [[ -f runs/$run/export/generator.ts.pt ]] && return
  rm -rf "runs/$run"
  "$build/maskforge" train configs/spam_cifar.yaml --set "run.name=$run" --set "trainer.steps=$steps" "$@"
  "$build/maskforge" export "runs/$run" --out "runs/$run/export/generator.ts.pt"
}
full() { echo "eps={schedule: constant, value: $1, scaling: none}"; }
variant full_4 --set "$(full 4/255)"
variant full_6 --set "$(full 6/255)"
variant full_8 --set "$(full 8/255)"
variant texture_06 --set eps.mean=0.6
variant texture_08   # the recipe
variant ssim_term --set "$(full 8/255)" --set 'losses=[{name: feature_distance}, {name: ssim, weight: 10}]'
variant texture_08_ssim_term --set 'losses=[{name: feature_distance}, {name: ssim, weight: 10}]'
"$build/maskforge" eval configs/eval_cifar_ssim.yaml
