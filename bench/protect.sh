#!/usr/bin/env bash
# Protect throughput: exported generator vs per-image PGD at the same eps against a
# ResNet-50 victim (bench/protect_bench.cpp).
#   bench/protect.sh [BUILD_DIR] [PGD_ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
scripts/setup.sh --python "$build"
cmake --build "$build" --target protect_bench >/dev/null
victim="$build/bench_data/resnet50.pt"
if [[ ! -f "$victim" ]]; then
  mkdir -p "$(dirname "$victim")"
  "$(sed -n 's/^MF_PYTHON:FILEPATH=//p' "$build/CMakeCache.txt")" tools/export_victim.py torchvision:resnet50 --random-init --out "$victim"
fi
"$build/bench/protect_bench" "$victim" "${2:-50}"
