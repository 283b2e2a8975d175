#!/usr/bin/env bash
# The CIFAR-10 evaluation of configs/eval_cifar.yaml from scratch: exports the real CIFAR-10
# ResNets of ../shared/assets (RN20, RN32, RN44) to runs/victims, trains and exports the UEP
# (configs/uep_cifar.yaml) and the SPAM generator (configs/spam_cifar.yaml) against RN20 and
# RN32, then evaluates every protection. Steps whose output exists are skipped.
#
#   scripts/eval-cifar.sh [BUILD_DIR] [--set ...]      (after make build or make test)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift $(( $# > 0 ? 1 : 0 ))
scripts/cifar-victims.sh vgg  # the recipe trains against the VGG-style CNN too
scripts/train-once.sh "$build" configs/uep_cifar.yaml uep_cifar uep.ts.pt
scripts/train-once.sh "$build" configs/spam_cifar.yaml spam_cifar generator.ts.pt
"$build/maskforge" eval configs/eval_cifar.yaml "$@"
