#!/usr/bin/env bash
# Trains CONFIG into runs/RUN unless that run finished (its summary.json exists; an
# interrupted run resumes), then exports it to runs/RUN/export/FILE unless that file exists.
# The evaluation scripts use it so that finished steps are reused.
#
#   scripts/train-once.sh BUILD_DIR CONFIG RUN [FILE]
set -euo pipefail
build="$1" config="$2" run="$3" file="${4:-}"
[[ -f runs/$run/summary.json ]] || "$build/maskforge" train "$config" --resume auto
[[ -z $file || -f runs/$run/export/$file ]] || "$build/maskforge" export "runs/$run" --out "runs/$run/export/$file"
