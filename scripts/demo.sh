#!/usr/bin/env bash
# The main job of `make demo`: train a SPAM generator against two real CIFAR-10 ResNets on
# real CIFAR-10 photos (configs/spam_cifar.yaml, shortened), export it to TorchScript,
# measure it with `maskforge eval` on test images it never saw (and against RN44, which it
# never saw either), protect the sample photos, and summarise what the victims saw.
# Finished steps are reused: `rm -rf runs/demo runs/eval_demo` trains again.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
mf="$build/maskforge"
steps="${DEMO_STEPS:-240}"
say() { printf '\n== %s\n' "$*"; }

"$mf" --version

say "the victims: RN20, RN32 and RN44 from ../shared/assets/weights (scripts/cifar-victims.sh)"
scripts/cifar-victims.sh

if [[ -f runs/demo/summary.json ]]; then
  say "SPAM generator: reusing runs/demo"
else
  # Against the ResNets only (the recipe's VGG-style victim takes 4.5 minutes to train first),
  # with the quality weight the recipe gives two victims (2.5 each).
  say "training the SPAM generator against RN20 + RN32 ($steps steps of configs/spam_cifar.yaml)"
  "$mf" train configs/spam_cifar.yaml --resume auto --set run.name=demo --set "trainer.steps=$steps" \
    --set 'victims=[{name: rn20_mid, kind: embedder, source: torchscript, path: runs/victims/rn20_layer2.pt},
                    {name: rn32_mid, kind: embedder, source: torchscript, path: runs/victims/rn32_layer2.pt}]' \
    --set 'losses=[{name: feature_distance}, {name: ssim, weight: 5}]' \
    --set trainer.sample_every=60 --set trainer.val_every=120 --set trainer.checkpoint_every=60
fi

say "exporting the generator to TorchScript"
"$mf" export runs/demo --out runs/demo/export/generator.ts.pt

say "evaluating on the 1,000 CIFAR-10 test images (configs/eval_demo.yaml)"
"$mf" eval configs/eval_demo.yaml

say "protecting ../shared/assets/photos"
rm -rf runs/demo/protected
"$mf" protect --model runs/demo/export/generator.ts.pt --input ../shared/assets/photos --output runs/demo/protected

say "summary"
python3 - runs/eval_demo/eval.json runs/demo <<'PY'
import csv, json, sys
e, run = json.load(open(sys.argv[1])), sys.argv[2]
acc = {(c["protection"], c["countermeasure"], c["victim"]): c["metrics"]["accuracy"] for c in e["cells"]}
quality = {p["name"]: p["quality"] for p in e["protections"]}
print(f"  accuracy on {e['images']} CIFAR-10 test images the generator never saw (lower is better protected):")
print(f"  {'victim':<30}{'clean':>8}{'protected':>11}{'protected, then JPEG 75':>25}")
for v in e["victims"]:
    name = v["name"] + ("" if v["name"] in ("rn20", "rn32") else " (never trained against)")
    row = [acc[("none", "none", v["name"])], acc[("spam", "none", v["name"])], acc[("spam", "jpeg75", v["name"])]]
    print(f"  {name:<30}" + "".join(f"{100 * a:>{w}.1f} %" for a, w in zip(row, (6, 9, 23))))
q = quality["spam"]
print(f"  test images: SSIM {q['ssim']:.3f}, PSNR {q['psnr']:.1f} dB, largest change {q['linf_255']:.1f}/255")
photos = [r for r in csv.DictReader(open(f"{run}/protected/protect.csv")) if r["status"] == "ok"]
if photos:
    ssim = sum(float(r["ssim"]) for r in photos) / len(photos)
    psnr = sum(float(r["psnr"]) for r in photos) / len(photos)
    print(f"  {len(photos)} photos protected: mean SSIM {ssim:.3f}, PSNR {psnr:.1f} dB")
s = json.load(open(f"{run}/summary.json"))
print(f"  training: {s.get('steps', '?')} steps, {s.get('images/s (training)', '?')} images/s")
PY
cat <<'MSG'

Look at:
  runs/eval_demo/report.html   what the victims saw: tables, charts, original | protected | perturbation | after JPEG
  runs/demo/samples/           original | protected | perturbation, during training
  runs/demo/metrics.jsonl      losses and validation metrics per step
  runs/demo/export/            the TorchScript generator (torch.jit.load in Python)
  runs/demo/protected/         protected copies of ../shared/assets/photos, and protect.csv
MSG
