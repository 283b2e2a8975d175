#!/usr/bin/env bash
# What the CIFAR-10 transfer evaluations compare against, made where missing: the ResNets of
# ../shared/assets exported, the victims of other families (tools/train_cifar_victim.py, 17
# minutes once), cnn6 (configs/cnn6_cifar.yaml, 2 minutes) and the recipe's generator
# (configs/spam_cifar.yaml, 7 minutes), exported.
#
#   scripts/cifar-baselines.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build="$1"
scripts/cifar-victims.sh vgg mobile vit
scripts/train-once.sh "$build" configs/cnn6_cifar.yaml cnn6_cifar  # a classifier run writes its weights itself
scripts/train-once.sh "$build" configs/spam_cifar.yaml spam_cifar generator.ts.pt
