#!/usr/bin/env bash
# The guided generator against the recipe (configs/eval_cifar_guided.yaml): trains the CIFAR-10
# victims of other families (tools/train_cifar_victim.py, 17 minutes once), cnn6
# (configs/cnn6_cifar.yaml, 2 minutes), the recipe (configs/spam_cifar.yaml, 7 minutes) and
# the guided generator (configs/spam_cifar_guided.yaml, 7 minutes) where they are missing,
# then evaluates both on the 1,000 test images, as protected and after JPEG 75.
#
#   scripts/eval-cifar-guided.sh [BUILD_DIR] [--set ...]      (after make build or make test)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift $(( $# > 0 ? 1 : 0 ))
scripts/cifar-victims.sh vgg mobile vit
scripts/train-once.sh "$build" configs/cnn6_cifar.yaml cnn6_cifar  # a classifier run writes its weights itself
scripts/train-once.sh "$build" configs/spam_cifar.yaml spam_cifar generator.ts.pt
scripts/train-once.sh "$build" configs/spam_cifar_guided.yaml spam_cifar_guided generator.ts.pt
"$build/maskforge" eval configs/eval_cifar_guided.yaml "$@"
