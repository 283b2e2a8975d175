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
"$mf" export runs/quickstart --out runs/quickstart/export/generator.ts.pt

photos=../shared/assets/photos
[[ -d "$photos" ]] || photos=runs/quickstart/samples  # the run's own sample grids
say "protecting $photos"
rm -rf runs/quickstart/protected
"$mf" protect --model runs/quickstart/export/generator.ts.pt --input "$photos" --output runs/quickstart/protected

say "summary"
python3 - runs/quickstart <<'PY'
import csv, json, sys
run = sys.argv[1]
s = json.load(open(f"{run}/summary.json"))
order = ["clean accuracy", "protected accuracy", "SSIM", "PSNR", "images/s", "steps"]
rank = lambda k: next((i for i, o in enumerate(order) if k.startswith(o)), len(order))
rows = sorted(((k, v) for k, v in s.items() if k != "metrics"), key=lambda kv: rank(kv[0]))
images = [r for r in csv.DictReader(open(f"{run}/protected/protect.csv")) if r["status"] == "ok"]
if images:
    mp = sum(float(r["megapixels"]) for r in images)
    rows += [("photos protected", str(len(images))),
             ("photos: megapixels/s", f"{mp / sum(float(r['seconds']) for r in images):.2f}"),
             ("photos: mean SSIM / PSNR", f"{sum(float(r['ssim']) for r in images) / len(images):.3f} / "
                                          f"{sum(float(r['psnr']) for r in images) / len(images):.2f} dB")]
width = max(len(k) for k, _ in rows)
for k, v in rows:
    print(f"  {k:<{width}}  {v}")
PY
cat <<MSG

Look at:
  runs/quickstart/samples/        original | protected | perturbation, during training
  runs/quickstart/metrics.jsonl   losses and validation metrics per step
  runs/quickstart/export/         the TorchScript generator (torch.jit.load in Python)
  runs/quickstart/protected/      protected copies of $photos, and protect.csv
MSG
