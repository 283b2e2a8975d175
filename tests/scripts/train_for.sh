#!/bin/sh
# scripts/train-for.sh: the run it starts trains the step count it announced (its schedule
# ends on time); a budget too small for any run is refused with the reason. How long the
# run takes is not checked: a shared machine's speed drifts between the probe and the run.
#   train_for.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1 build=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/c.yaml" <<YAML
version: 1
run: {out_dir: $dir, name: timed, device: cpu}
data: {dataset: synthetic, images: 64, classes: 4, size: 16, batch_size: 8, workers: 0}
generator: {arch: resnet, width: 8, blocks: 1}
victims:
  - {name: net, kind: classifier, source: builtin, arch: tiny_cnn, classes: 4}
losses:
  - {name: untargeted_ce}
eps: {schedule: constant, value: 8/255}
trainer: {kind: spam, steps: 1, lr: 0.001, log_every: 10}
YAML
RESERVE_S=2 "$src/scripts/train-for.sh" 20 "$build" "$dir/c.yaml" >"$dir/log" 2>&1 || { cat "$dir/log"; echo "FAIL: a 20 s budget did not train"; exit 1; }
announced=$(sed -n 's/.*ms per step: \([0-9]*\) steps.*/\1/p' "$dir/log")
trained=$(sed -n 's/.*"steps": "\([0-9]*\)".*/\1/p' "$dir/timed/summary.json")
[ -n "$announced" ] && [ "$announced" = "$trained" ] || { cat "$dir/log"; echo "FAIL: announced '$announced' steps, trained '$trained'"; exit 1; }
if "$src/scripts/train-for.sh" 5 "$build" "$dir/c.yaml" --set run.name=short >"$dir/short.log" 2>&1; then
  echo "FAIL: a 5 s budget, under the 20 s kept by default, was accepted"; exit 1
fi
grep -q "leaves no time for a run in 5 s" "$dir/short.log" || { cat "$dir/short.log"; echo "FAIL: no reason given"; exit 1; }
echo "ok: $trained steps announced and trained in a 20 s budget"
