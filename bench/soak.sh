#!/usr/bin/env bash
# Kill soak: N training runs killed with SIGKILL at a random moment, each then finished with
# `--resume auto`, for a single process and for a 2-rank torchrun job (the whole job
# killed). Prints how many ended bitwise equal to an uninterrupted run of the same config.
# The config draws random numbers in the generator (U-Net noise channels), in robustness
# transforms and in validation, and checkpoints every 3 steps.
#   bench/soak.sh [BUILD_DIR] [N]          (N per mode, default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
n="${2:-50}"
scripts/setup.sh --python "$build" >/dev/null
cmake --build "$build" --target maskforge >/dev/null
mf="$(pwd)/$build/maskforge"
torchrun="$(dirname "$(sed -n 's/^MF_PYTHON:FILEPATH=//p' "$build/CMakeCache.txt")")/torchrun"
out="$(pwd)/$build/bench_data/soak"
rm -rf "$out"
mkdir -p "$out"
cat >"$out/config.yaml" <<'YAML'
version: 1
run: {name: r, seed: 11}
data: {dataset: synthetic, images: 160, classes: 4, size: 16, batch_size: 8, workers: 1, val_fraction: 0.1}
generator: {arch: unet, width: 4, depth: 2, noise_channels: 1}
victims:
  - {name: net, kind: classifier, source: builtin, classes: 4, input_size: [16, 16]}
losses:
  - {name: untargeted_ce}
  - {name: l2, weight: 0.5}
robustness:
  - {name: noise, p: 0.5}
  - {name: crop, p: 0.5}
eps: {schedule: constant, value: 8/255}
trainer: {kind: spam, steps: 60, lr: 0.01, warmup_steps: 2, log_every: 5, sample_every: 0, val_every: 6, val_batches: 1, checkpoint_every: 3, keep_last: 2}
YAML

# train MODE RUN_DIR [EXTRA...]: one run to its end (or until killed).
train() {
  local mode="$1" dir="$2"
  shift 2
  if [[ "$mode" == single ]]; then
    OMP_NUM_THREADS=1 exec "$mf" train "$out/config.yaml" --set run.out_dir="$dir" --resume auto "$@"
  else
    OMP_NUM_THREADS=1 exec "$torchrun" --standalone --nproc-per-node=2 --no-python "$mf" train "$out/config.yaml" \
      --set run.out_dir="$dir" --resume auto "$@"
  fi
}

final() { ls -d "$1"/r/checkpoints/step_* | sort | tail -1; }

for mode in single torchrun; do
  start=$(date +%s.%N)
  (train "$mode" "$out/$mode/straight") >"$out/$mode.straight.log" 2>&1 || { cat "$out/$mode.straight.log"; exit 1; }
  seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
  equal=0 finished=0
  for i in $(seq 1 "$n"); do
    dir="$out/$mode/run$i"
    # Somewhere between start-up and the end of an uninterrupted run.
    delay=$(awk -v s="$seconds" -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.2 + (s - 0.2) * r / 32768 }')
    setsid bash -c "$(declare -f train); mf='$mf' torchrun='$torchrun' out='$out' train $mode '$dir'" >"$dir.log" 2>&1 &
    leader=$!
    sleep "$delay"
    kill -KILL -- "-$leader" 2>/dev/null || true  # the whole process group: torchrun and its workers
    wait "$leader" 2>/dev/null || true
    [[ -f "$dir/r/summary.json" ]] && finished=$((finished + 1))  # the kill came after the end
    (train "$mode" "$dir") >>"$dir.log" 2>&1 || { echo "run $i: the resumed run failed"; tail -5 "$dir.log"; continue; }
    if cmp -s "$(final "$out/$mode/straight")/generator.pt" "$(final "$dir")/generator.pt"; then
      equal=$((equal + 1))
    else
      echo "$mode run $i (killed after ${delay} s): the final generator differs"
    fi
    rm -rf "$dir"
  done
  printf '%-40s %d of %d bitwise equal; %d killed mid-run (uninterrupted run %.0f s)\n' "$mode: SIGKILL at a random moment, resume" \
    "$equal" "$n" $((n - finished)) "$seconds"
done
