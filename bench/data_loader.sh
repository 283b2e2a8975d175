#!/usr/bin/env bash
# Data-loader benchmark: maskforge's loader against PyTorch's DataLoader + torchvision +
# Pillow on the same 500 JPEGs (1024x768 -> 224x224 batches), at equal worker counts.
#   bench/data_loader.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
venv="${MASKFORGE_CACHE:-$HOME/.cache/maskforge}/venv"
scripts/setup.sh --python "$build"  # the virtualenv gets torchvision and Pillow (tools/requirements.txt)
cmake --build "$build" --target data_loader_bench >/dev/null
data="$build/bench_data/jpeg_1024x768"
mkdir -p "$data"
"$build/bench/data_loader_bench" "$data" 500 1 2 | tee "$build/bench_data/loader_maskforge.txt"
"$venv/bin/python" bench/data_loader_reference.py "$data" 1 2 | tee "$build/bench_data/loader_pytorch.txt"
echo
echo "| workers | maskforge images/s | PyTorch images/s | ratio |"
echo "|---|---|---|---|"
for w in 1 2; do
  m=$(sed -n "s/^maskforge workers=$w images_per_s=//p" "$build/bench_data/loader_maskforge.txt")
  p=$(sed -n "s/^pytorch workers=$w images_per_s=//p" "$build/bench_data/loader_pytorch.txt")
  echo "| $w | $m | $p | $(awk -v m="$m" -v p="$p" 'BEGIN { printf "%.2fx", m / p }') |"
done
