#!/usr/bin/env bash
# Transfer beyond the families a protection trained against (configs/eval_cifar_other_arch.yaml):
# exports the CIFAR-10 ResNets, trains the VGG-style, MobileNet-style and ViT victims
# (tools/train_cifar_victim.py, 17 minutes once), the VGG-style cnn6 of maskforge's own
# classifier trainer (configs/cnn6_cifar.yaml, 4 minutes) and the SPAM generator
# (configs/spam_cifar.yaml) where they are missing, then evaluates RN44, cnn6, mobile and vit.
#
#   scripts/eval-other-arch.sh [BUILD_DIR] [--set ...]      (after make build or make test)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift $(( $# > 0 ? 1 : 0 ))
scripts/cifar-baselines.sh "$build"
"$build/maskforge" eval configs/eval_cifar_other_arch.yaml "$@"
