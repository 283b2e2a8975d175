#!/usr/bin/env bash
# Exports the real CIFAR-10 ResNets of ../shared/assets (RN20, RN32, RN44) to runs/victims
# with tools/export_victim.py, once, and the features after their second stage (rnNN_layer2.pt,
# embedders for the feature-level loss); the CIFAR configs, evaluations and benchmarks use them.
# Each FAMILY named (vgg, mobile, vit: tools/train_cifar_victim.py) is trained on the training
# images, once, and exported the same way (FAMILY.pt, FAMILY_layer2.pt): 4.5, 3.5 and 7.5 minutes.
# rn20_robust (or rn32_robust, rn44_robust) is that released ResNet fine-tuned a little
# adversarially (tools/robust_finetune.py), a surrogate that transfers: 1.5 minutes.
#
#   scripts/cifar-victims.sh [FAMILY...]
set -euo pipefail
cd "$(dirname "$0")/.."
python="${MASKFORGE_CACHE:-$HOME/.cache/maskforge}/venv/bin/python"
mkdir -p runs/victims
export_once() {  # MODEL WEIGHTS NAME: the classifier and its layer2 features
  [[ -f runs/victims/$3.pt ]] || "$python" tools/export_victim.py "$1" --weights "$2" --out "runs/victims/$3.pt"
  [[ -f runs/victims/$3_layer2.pt ]] || "$python" tools/export_victim.py "$1" --weights "$2" --features layer2 --out "runs/victims/$3_layer2.pt"
}
for depth in 20 32 44; do
  export_once cifar10_resnet$depth "$(ls ../shared/assets/weights/cifar10_resnet$depth-*.th)" rn$depth
done
for family in "$@"; do
  data=(--data ../shared/assets/cifar10/train --test ../shared/assets/cifar10/test --out "runs/victims/$family.pth")
  if [[ $family =~ ^rn(20|32|44)_robust$ ]]; then
    depth=${BASH_REMATCH[1]}
    released=$(ls ../shared/assets/weights/cifar10_resnet$depth-*.th)
    [[ -f runs/victims/$family.pth ]] || "$python" tools/robust_finetune.py "$depth" --weights "$released" "${data[@]}"
    export_once "cifar10_resnet$depth" "runs/victims/$family.pth" "$family"
  else
    [[ -f runs/victims/$family.pth ]] || "$python" tools/train_cifar_victim.py "$family" "${data[@]}"
    export_once "cifar10_$family" "runs/victims/$family.pth" "$family"
  fi
done
