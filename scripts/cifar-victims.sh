#!/usr/bin/env bash
# Exports the real CIFAR-10 ResNets of ../shared/assets (RN20, RN32, RN44) to runs/victims
# with tools/export_victim.py, once, and the features after their second stage (rnNN_layer2.pt,
# embedders for the feature-level loss); the CIFAR configs, evaluations and benchmarks use them.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${MASKFORGE_CACHE:-$HOME/.cache/maskforge}/venv/bin/python"
mkdir -p runs/victims
for depth in 20 32 44; do
  weights=$(ls ../shared/assets/weights/cifar10_resnet$depth-*.th)
  [[ -f runs/victims/rn$depth.pt ]] || "$python" tools/export_victim.py cifar10_resnet$depth --weights "$weights" --out runs/victims/rn$depth.pt
  [[ -f runs/victims/rn${depth}_layer2.pt ]] ||
    "$python" tools/export_victim.py cifar10_resnet$depth --weights "$weights" --features layer2 --out runs/victims/rn${depth}_layer2.pt
done
