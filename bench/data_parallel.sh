#!/usr/bin/env bash
# Data-parallel scaling: global training images/s of configs/multi_gpu.yaml with 1, 2, ...
# ranks launched by torchrun (per-rank batch fixed, so the global batch grows), and the
# efficiency against perfect scaling. On a GPU machine, one rank per GPU; on CPUs, the
# cores are split between the ranks.
#   bench/data_parallel.sh [BUILD_DIR] [RANKS...]      e.g. bench/data_parallel.sh build 1 2 4 8
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"; shift || true
ranks=("${@:-1 2}"); ranks=(${ranks[@]})
scripts/setup.sh --python "$build"
cmake --build "$build" --target maskforge >/dev/null
torchrun="$(dirname "$(sed -n 's/^MF_PYTHON:FILEPATH=//p' "$build/CMakeCache.txt")")/torchrun"
out="$build/bench_data/data_parallel"
cores=$(nproc)
printf '| ranks | global batch | images/s | efficiency |\n|---|---|---|---|\n'
base=""
for n in "${ranks[@]}"; do
  rm -rf "$out/r$n"
  # The surrogate's weights do not change the speed: random ones spare the quickstart run.
  OMP_NUM_THREADS=$(( cores / n > 0 ? cores / n : 1 )) "$torchrun" --standalone --nproc-per-node="$n" --no-python \
    "$build/maskforge" train configs/multi_gpu.yaml --set run.out_dir="$out" --set run.name="r$n" \
    --set victims.0.checkpoint= --set trainer.steps=60 --set trainer.val_every=0 --set trainer.checkpoint_every=0 \
    --set trainer.val_batches=1 >"$out.log" 2>&1 || { cat "$out.log"; exit 1; }
  # Steady state: the mean of the logged images/s after the first 10 steps.
  ips=$(python3 -c "import json,sys; v=[json.loads(l) for l in open(sys.argv[1])]; v=[x['images_per_s'] for x in v if 'images_per_s' in x and x['step']>10]; print(f'{v[-1]:.0f}')" "$out/r$n/metrics.jsonl")
  base=${base:-$((ips / n))}
  printf '| %d | %d | %d | %.0f %% |\n' "$n" $((32 * n)) "$ips" "$(awk -v i="$ips" -v b="$base" -v n="$n" 'BEGIN { print 100 * i / (b * n) }')"
done
