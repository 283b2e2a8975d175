#!/usr/bin/env bash
# The main job of `make demo`: train the quickstart surrogate victim and a SPAM generator
# against it, export the generator to TorchScript, and protect sample photos with it.
# Finished runs are reused: `rm -rf runs/quickstart*` trains again.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
mf="$build/maskforge"
say() { printf '\n== %s\n' "$*"; }

"$mf" --version

if [[ -f runs/quickstart_victim/export/model.pt ]]; then
  say "surrogate victim: reusing runs/quickstart_victim"
else
  say "training the surrogate victim (configs/quickstart_victim.yaml)"
  "$mf" train configs/quickstart_victim.yaml --resume auto
fi

if [[ -f runs/quickstart/summary.json ]]; then
  say "SPAM generator: reusing runs/quickstart"
else
  say "training the SPAM generator (configs/quickstart.yaml)"
  "$mf" train configs/quickstart.yaml --resume auto
fi

say "exporting the generator to TorchScript"
"$mf" export runs/quickstart --out runs/quickstart/export/generator.pt

photos=../shared/assets/photos
[[ -d "$photos" ]] || photos=runs/quickstart/samples  # the run's own sample grids
say "protecting $photos"
rm -rf runs/quickstart/protected
"$mf" protect --model runs/quickstart/export/generator.pt --input "$photos" --output runs/quickstart/protected

say "done; look at:"
cat <<MSG
  runs/quickstart/samples/        original | protected | perturbation, during training
  runs/quickstart/metrics.jsonl   losses and validation metrics per step
  runs/quickstart/export/         the TorchScript generator (torch.jit.load in Python)
  runs/quickstart/protected/      protected copies of $photos, and protect.csv
MSG
