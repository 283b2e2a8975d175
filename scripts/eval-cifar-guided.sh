#!/usr/bin/env bash
# The guided generator against the recipe (configs/eval_cifar_guided.yaml): trains what
# scripts/cifar-baselines.sh trains and the guided generator (configs/spam_cifar_guided.yaml,
# 15 minutes) where they are missing, then evaluates both on the 1,000 test images, as
# protected and after JPEG 75.
#
#   scripts/eval-cifar-guided.sh [BUILD_DIR] [--set ...]      (after make build or make test)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift $(( $# > 0 ? 1 : 0 ))
scripts/cifar-baselines.sh "$build"
scripts/cifar-victims.sh rn20_robust rn32_robust  # victims of the guided generator
scripts/train-once.sh "$build" configs/spam_cifar_guided.yaml spam_cifar_guided generator.ts.pt
"$build/maskforge" eval configs/eval_cifar_guided.yaml "$@"
