#!/usr/bin/env bash
# Protection strength, maskforge against the eager PyTorch reference: for each SPAM config,
# trains maskforge's generator and bench/reference/spam_reference.py's (the same
# architecture, victims, data, losses, schedule and seed, written plainly), then evaluates
# both with `maskforge eval` on the 1,000 CIFAR-10 test images of ../shared/assets against
# RN20, RN32 and RN44, as protected and after real JPEG 75. Runs are chaotic (a rounding
# difference in the first steps leads to a different generator, a few points apart), so
# both train once per seed of SEEDS (default "0 1 2") and their means are compared:
# maskforge must be at least as strong (within 2 points of accuracy) on every victim; the
# script fails otherwise. The reference has no JPEG approximation, so both train without the
# config's robustness list and without a guide through JPEG (generator.guide_jpeg).
#
#   [SEEDS="0 1 2"] bench/strength.sh [BUILD_DIR] [CONFIG...] [-- --set key=value ...]
#   (default config: configs/spam_cifar.yaml; --set applies to both trainings)
#
# Environment: MF_ASSETS (default ../shared/assets: the test images are its cifar10/test),
# MASKFORGE_PYTHON (the python with torch; default the setup's virtualenv), as for
# bench/train_step.sh on a GPU machine.
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
python="${MASKFORGE_PYTHON:-${MASKFORGE_CACHE:-$HOME/.cache/maskforge}/venv/bin/python}"
assets="${MF_ASSETS:-../shared/assets}"
read -ra seeds <<< "${SEEDS:-0 1 2}"
scripts/cifar-victims.sh vgg rn20_robust rn32_robust  # the recipe trains against the VGG-style CNN too, the guided config against the robust ResNets

failed=0
for config in "${configs[@]}"; do
  name="strength_$(basename "$config" .yaml)"
  out="runs/$name"
  rm -rf "$out" "runs/${name}_eval"
  mkdir -p "$out"
  ours=0 theirs=0 models=""
  for seed in "${seeds[@]}"; do
    run="${name}_s$seed"
    sets=(--set "run.name=$run" --set "run.seed=$seed" --set "robustness=[]" --set generator.guide_jpeg=0)
    for o in "${overrides[@]}"; do sets+=("$o"); done
    rm -rf "runs/$run"
    start=$SECONDS
    "$build/maskforge" train "$config" "${sets[@]}" > "$out/$run.train.log" 2>&1 || { tail "$out/$run.train.log"; exit 1; }
    "$build/maskforge" export "runs/$run" --out "$out/maskforge_s$seed.ts.pt" > /dev/null
    ours=$((ours + SECONDS - start)); start=$SECONDS
    "$python" bench/reference/spam_reference.py "$config" "${sets[@]}" --out "$out/reference_s$seed.ts.pt" \
      > "$out/$run.reference.log" 2>&1 || { tail "$out/$run.reference.log"; exit 1; }
    theirs=$((theirs + SECONDS - start))
    models+="  - {name: maskforge_s$seed, method: model, path: $out/maskforge_s$seed.ts.pt}
  - {name: reference_s$seed, method: model, path: $out/reference_s$seed.ts.pt}
"
  done
  cat > "$out/eval.yaml" <<YAML
version: 1
run: {name: ${name}_eval}
images: {dataset: image_folder, root: $assets/cifar10/test, labels: folder, batch_size: 100}
victims:
  - {name: rn20, kind: classifier, source: torchscript, path: runs/victims/rn20.pt}
  - {name: rn32, kind: classifier, source: torchscript, path: runs/victims/rn32.pt}
  - {name: rn44, kind: classifier, source: torchscript, path: runs/victims/rn44.pt}
protections:
  - {method: none}
${models}countermeasures:
  - {kind: none}
  - {kind: jpeg, quality: 75}
YAML
  "$build/maskforge" eval "$out/eval.yaml" > "$out/eval.log" 2>&1 || { tail "$out/eval.log"; exit 1; }
  echo "== $config (${overrides[*]}), seeds ${seeds[*]}: training maskforge ${ours} s, reference ${theirs} s"
  "$python" - "runs/${name}_eval/eval.json" "${seeds[@]}" <<'PY' || failed=1
import json, statistics, sys
r = json.load(open(sys.argv[1]))
cell = {(c["protection"], c["countermeasure"], c["victim"]): c["metrics"]["accuracy"] for c in r["cells"]}
ssim = {p["name"]: p["quality"]["ssim"] for p in r["protections"]}
seeds = sys.argv[2:]
def runs(who, c, v):
    return [100 * cell[(f"{who}_s{s}", c, v)] for s in seeds]
def show(xs):
    return f"{statistics.mean(xs):.1f} % ({min(xs):.1f}-{max(xs):.1f})" if len(xs) > 1 else f"{xs[0]:.1f} %"
print("| victim | countermeasure | clean | maskforge, mean (range) | reference, mean (range) | maskforge - reference |")
print("|---|---|---|---|---|---|")
worst = -1e9
for v in ("rn20", "rn32", "rn44"):
    for c in ("none", "jpeg75"):
        ours, theirs = runs("maskforge", c, v), runs("reference", c, v)
        gap = statistics.mean(ours) - statistics.mean(theirs)
        worst = max(worst, gap)
        print(f"| {v} | {c} | {100 * cell[('none', c, v)]:.1f} % | {show(ours)} | {show(theirs)} | {gap:+.1f} |")
mean_ssim = lambda who: statistics.mean(ssim[f"{who}_s{s}"] for s in seeds)
print(f"SSIM: maskforge {mean_ssim('maskforge'):.4f}, reference {mean_ssim('reference'):.4f} (means over seeds {', '.join(seeds)})")
sys.exit(0 if worst <= 2 else 1)
PY
done
exit $failed
