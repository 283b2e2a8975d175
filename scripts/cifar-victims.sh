#!/usr/bin/env bash
# Exports the real CIFAR-10 ResNets of ../shared/assets (RN20, RN32, RN44) to runs/victims
# with tools/export_victim.py, once; the CIFAR configs, evaluations and benchmarks use them.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${MASKFORGE_CACHE:-$HOME/.cache/maskforge}/venv/bin/python"
mkdir -p runs/victims
for depth in 20 32 44; do
  [[ -f runs/victims/rn$depth.pt ]] ||
    "$python" tools/export_victim.py cifar10_resnet$depth --weights "$(ls ../shared/assets/weights/cifar10_resnet$depth-*.th)" --out runs/victims/rn$depth.pt
done
