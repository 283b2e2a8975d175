#!/usr/bin/env bash
# Protection strength, maskforge against the eager PyTorch reference: for each SPAM config,
# trains maskforge's generator and bench/reference/spam_reference.py's (the same
# architecture, victims, data, losses, schedule and seed, written plainly), then evaluates
# both with `maskforge eval` on the 1,000 CIFAR-10 test images of ../shared/assets against
# RN20, RN32 and RN44, as protected and after real JPEG 75. maskforge must be at least as
# strong (within 2 points of accuracy) on every victim; the script fails otherwise. The
# reference has no JPEG approximation, so both train without the config's robustness list.
#
#   bench/strength.sh [BUILD_DIR] [CONFIG...] [-- --set key=value ...]
#   (default config: configs/spam_cifar.yaml; --set applies to both trainings)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift $(( $# > 0 ? 1 : 0 ))
configs=() overrides=()
while (($#)); do
  if [[ $1 == -- ]]; then shift; overrides=("$@"); break; fi
  configs+=("$1"); shift
done
((${#configs[@]})) || configs=(configs/spam_cifar.yaml)
python="${MASKFORGE_CACHE:-$HOME/.cache/maskforge}/venv/bin/python"
scripts/cifar-victims.sh

failed=0
for config in "${configs[@]}"; do
  name="strength_$(basename "$config" .yaml)"
  out="runs/$name"
  rm -rf "$out" "runs/${name}_eval"
  mkdir -p "$out"
  sets=(--set "run.name=$name" --set "robustness=[]")
  for o in "${overrides[@]}"; do sets+=("$o"); done
  start=$SECONDS
  "$build/maskforge" train "$config" "${sets[@]}" > "$out.train.log" 2>&1 || { tail "$out.train.log"; exit 1; }
  "$build/maskforge" export "$out" --out "$out/export/generator.ts.pt" > /dev/null
  ours=$((SECONDS - start)); start=$SECONDS
  "$python" bench/reference/spam_reference.py "$config" "${sets[@]}" --out "$out/reference.ts.pt" > "$out.reference.log" 2>&1 || { tail "$out.reference.log"; exit 1; }
  theirs=$((SECONDS - start))
  cat > "$out/eval.yaml" <<YAML
version: 1
run: {name: ${name}_eval}
images: {dataset: image_folder, root: ../shared/assets/cifar10/test, labels: folder, batch_size: 100}
victims:
  - {name: rn20, kind: classifier, source: torchscript, path: runs/victims/rn20.pt}
  - {name: rn32, kind: classifier, source: torchscript, path: runs/victims/rn32.pt}
  - {name: rn44, kind: classifier, source: torchscript, path: runs/victims/rn44.pt}
protections:
  - {method: none}
  - {name: maskforge, method: model, path: $out/export/generator.ts.pt}
  - {name: reference, method: model, path: $out/reference.ts.pt}
countermeasures:
  - {kind: none}
  - {kind: jpeg, quality: 75}
YAML
  "$build/maskforge" eval "$out/eval.yaml" > "$out.eval.log" 2>&1 || { tail "$out.eval.log"; exit 1; }
  echo "== $config (${overrides[*]}): training maskforge ${ours} s, reference ${theirs} s"
  "$python" - "runs/${name}_eval/eval.json" <<'PY' || failed=1
import json, sys
r = json.load(open(sys.argv[1]))
cell = {(c["protection"], c["countermeasure"], c["victim"]): c["metrics"]["accuracy"] for c in r["cells"]}
ssim = {p["name"]: p["quality"]["ssim"] for p in r["protections"]}
print(f"| victim | countermeasure | clean | maskforge | reference | maskforge - reference |")
print(f"|---|---|---|---|---|---|")
worst = -1e9
for v in ("rn20", "rn32", "rn44"):
    for c in ("none", "jpeg75"):
        ours, theirs = cell[("maskforge", c, v)], cell[("reference", c, v)]
        worst = max(worst, ours - theirs)
        print(f"| {v} | {c} | {100 * cell[('none', c, v)]:.1f} % | {100 * ours:.1f} % | {100 * theirs:.1f} % | {100 * (ours - theirs):+.1f} |")
print(f"SSIM: maskforge {ssim['maskforge']:.4f}, reference {ssim['reference']:.4f}")
sys.exit(0 if worst <= 0.02 else 1)
PY
done
exit $failed
