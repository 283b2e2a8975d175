#!/usr/bin/env bash
# Trains a config for a wall-clock budget instead of a step count, for machines lent for a
# few minutes (a GPU), where the step time is not known beforehand: a 30-step run of the same
# config and options measures it, then the real run gets the steps that fit, so its
# learning-rate schedule decays to its end on time. The run goes where the config says.
#
#   scripts/train-for.sh SECONDS BUILD_DIR CONFIG [train options, e.g. --set run.device=cuda]
#
# Environment: RESERVE_S, the seconds kept for the run's start-up, validation, samples and
# checkpoints (default 20; 10 % of the rest is kept too).
set -euo pipefail
(($# >= 3)) || { echo "usage: scripts/train-for.sh SECONDS BUILD_DIR CONFIG [train options]" >&2; exit 2; }
seconds=$1 maskforge="$2/maskforge" config=$3
shift 3
say() { printf '\033[1mtrain-for:\033[0m %s\n' "$*" >&2; }
start=$(date +%s)

probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
"$maskforge" train "$config" "$@" --set run.out_dir="$probe" --set run.name=probe --set trainer.steps=30 \
  --set trainer.log_every=10 --set trainer.val_every=0 --set trainer.sample_every=0 >"$probe/log" 2>&1 ||
  { tail -20 "$probe/log" >&2; say "the 30-step probe failed"; exit 1; }
# The last logged interval (steps 21-30) is past the first steps' warm-up (cuDNN, allocator).
step_ms=$(grep '"time/step_ms"' "$probe/probe/metrics.jsonl" | tail -1 | sed -E 's/.*"time\/step_ms":([0-9.]+).*/\1/')
left=$((seconds - ($(date +%s) - start) - ${RESERVE_S:-20}))
steps=$(awk -v left="$left" -v ms="$step_ms" 'BEGIN { s = int(0.9 * left * 1000 / ms); print (s > 0 ? s : 0) }')
((steps >= 10)) || { say "${step_ms} ms per step leaves no time for a run in ${seconds} s"; exit 1; }
say "${step_ms} ms per step: ${steps} steps in the $left s left"
exec "$maskforge" train "$config" "$@" --set trainer.steps="$steps"
