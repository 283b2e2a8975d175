#!/usr/bin/env bash
# Protection strength against image quality: trains configs/spam_cifar.yaml's generator with
# the texture-scaled budget's mean factor swept (L-inf 8/255 at most everywhere; a lower mean
# leaves flat regions, where the eye and SSIM look, more alone), then measures every
# generator with `maskforge eval` on the 1,000 CIFAR-10 test images against RN20, RN32 and
# RN44 (never trained against), as protected and after real JPEG 75. The report
# (runs/quality_curve_eval/report.html) plots each victim's accuracy against SSIM; the
# script prints the table and copies RN44's chart to runs/quality_curve_eval/rn44.svg.
#
#   bench/quality_curve.sh [BUILD_DIR] [STEPS] [MEAN...]     (default: build 200 0.6 0.7 0.8 0.9 1)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
steps="${2:-200}"
shift $(( $# > 2 ? 2 : $# ))
means=("$@")
((${#means[@]})) || means=(0.6 0.7 0.8 0.9 1)
scripts/cifar-victims.sh

out=runs/quality_curve
mkdir -p "$out"
spec="$out/eval.yaml"
cat > "$spec" <<YAML
version: 1
run: {name: quality_curve_eval}
images: {dataset: image_folder, root: ../shared/assets/cifar10/test, labels: folder, batch_size: 100}
victims:
  - {name: rn20, kind: classifier, source: torchscript, path: runs/victims/rn20.pt}
  - {name: rn32, kind: classifier, source: torchscript, path: runs/victims/rn32.pt}
  - {name: rn44, kind: classifier, source: torchscript, path: runs/victims/rn44.pt}
countermeasures: [{kind: none}, {kind: jpeg, quality: 75}]
report: {samples: 4}
protections:
  - {method: none}
YAML
for mean in "${means[@]}"; do
  name="mean_$mean"
  if [[ ! -f $out/$name.ts.pt ]]; then
    "$build/maskforge" train configs/spam_cifar.yaml --set "run.name=quality_curve_$name" --set "trainer.steps=$steps" --set "eps.mean=$mean" \
      --set trainer.sample_every=0 --set trainer.val_every=0 --set trainer.checkpoint_every=0 > "$out/$name.train.log" 2>&1 ||
      { tail "$out/$name.train.log"; exit 1; }
    "$build/maskforge" export "runs/quality_curve_$name" --out "$out/$name.ts.pt" > /dev/null
  fi
  echo "  - {name: $name, method: model, path: $out/$name.ts.pt}" >> "$spec"
done
"$build/maskforge" eval "$spec" > "$out/eval.log"

python3 - runs/quality_curve_eval <<'PY'
import json, re, sys
folder = sys.argv[1]
e = json.load(open(f"{folder}/eval.json"))
acc = {(c["protection"], c["countermeasure"], c["victim"]): 100 * c["metrics"]["accuracy"] for c in e["cells"]}
print("| texture mean | SSIM | RN20 | RN32 | RN44 (unseen) | RN20, JPEG 75 | RN44, JPEG 75 |")
print("|---|---|---|---|---|---|---|")
for p in e["protections"]:
    n = p["name"]
    print(f"| {n.removeprefix('mean_')} | {p['quality']['ssim']:.3f} | " + " | ".join(
        f"{acc[(n, c, v)]:.1f} %" for c, v in [("none", "rn20"), ("none", "rn32"), ("none", "rn44"), ("jpeg75", "rn20"), ("jpeg75", "rn44")]) + " |")
html = open(f"{folder}/report.html").read()
charts = re.findall(r"<svg.*?</svg>", html, re.S)
rn44 = [c for c in charts if "rn44: accuracy" in c and "SSIM" in c]
if rn44:
    open(f"{folder}/rn44.svg", "w").write(rn44[0])
PY
