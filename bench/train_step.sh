#!/usr/bin/env bash
# Time per training step, maskforge against eager PyTorch, on the same work in one sitting:
# bench/configs/train_step.yaml (resnet generator, RN20 + RN32 TorchScript victims,
# untargeted CE, AdamW) on CIFAR-10 images (32 x 32) and on LFW faces cropped to 224 x 224.
# maskforge runs `maskforge train` with its loader (data.workers at its default, and 0); the
# reference (bench/reference/spam_reference.py --time) holds the images in memory. Both use
# the same intra-op threads (THREADS, default: every core) and the same device.
# The three runs of a workload alternate, ROUNDS times (default 3), and each figure is the
# median over the rounds of a run's median ms/step after its warm-up steps: a shared
# machine's speed drifts by 20 % over minutes, and runs minutes apart would compare drift.
# Prints ms/step, images/s, the peak resident memory (and on a GPU the peak GPU memory of
# the reference), and maskforge's time as a multiple of eager PyTorch's.
#
#   bench/train_step.sh [BUILD_DIR] [TIMED_STEPS]      (default 40; 224 x 224 on a CPU times a quarter)
#
# Environment: DEVICE (cpu or cuda; default cpu), BATCHES ("32x32 batch sizes:224x224 batch
# sizes", default "64:16" on a CPU, "64 256:64" on a GPU: the LFW subset has 95 faces, fewer
# than a batch of 256), MF_ASSETS (default
# ../shared/assets), MF_VICTIMS (default runs/victims, made by scripts/cifar-victims.sh),
# MASKFORGE_PYTHON (the python with torch; default the setup's virtualenv).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
timed="${2:-40}"
warmup=5
rounds="${ROUNDS:-3}"
device="${DEVICE:-cpu}"
assets="${MF_ASSETS:-../shared/assets}"
victims="${MF_VICTIMS:-runs/victims}"
python="${MASKFORGE_PYTHON:-${MASKFORGE_CACHE:-$HOME/.cache/maskforge}/venv/bin/python}"
if [[ $device == cpu ]]; then batches="${BATCHES:-64:16}"; else batches="${BATCHES:-64 256:64}"; fi
[[ -f "$victims/rn20.pt" ]] || scripts/cifar-victims.sh
export OMP_NUM_THREADS="${THREADS:-$(nproc)}"
out=runs/bench_train_step
rm -rf "$out"
mkdir -p "$out"

# Runs a command with its output in LOG; prints the command's peak resident memory in MiB.
peak_rss() {
  local log=$1; shift
  "$python" -c 'import resource, subprocess, sys
with open(sys.argv[1], "w") as log:
    if subprocess.run(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT).returncode:
        sys.exit("failed: " + " ".join(sys.argv[2:]) + " (see " + sys.argv[1] + ")")
print(round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))' "$log" "$@"
}

# The median time/step_ms of a maskforge run's metrics after the warm-up steps.
median_step() {
  "$python" - "$1" "$warmup" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ms = [r["time/step_ms"] for r in rows if "time/step_ms" in r and r["step"] > int(sys.argv[2])]
print(f"{statistics.median(ms):.1f}")
PY
}

images_per_s() { awk -v ms="$1" -v n="$2" 'BEGIN { printf "%.0f", 1000 * n / ms }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

rows=()
for workload in cifar32 lfw224; do
  if [[ $workload == cifar32 ]]; then sizes="${batches%%:*}"; else sizes="${batches#*:}"; fi
  for batch in $sizes; do
    sets=(--set "data.root=$assets/cifar10/train" --set "data.batch_size=$batch" --set "run.device=$device"
          --set "victims.0.path=$victims/rn20.pt" --set "victims.1.path=$victims/rn32.pt")
    steps=$timed
    if [[ $workload == lfw224 ]]; then
      sets+=(--set "data.root=$assets/faces/lfw_subset" --set data.crop=224)
      [[ $device == cpu ]] && steps=$(( (timed + 3) / 4 ))
    fi
    sets+=(--set "trainer.steps=$((steps + warmup))")
    name="${workload}_b${batch}"
    ref_runs=() default_runs=() zero_runs=()
    for ((r = 1; r <= rounds; r++)); do
      ref_rss=$(peak_rss "$out/$name.reference.log" "$python" bench/reference/spam_reference.py bench/configs/train_step.yaml "${sets[@]}" --warmup "$warmup" --time "$out/$name.reference.json")
      read -r ms ref_gpu < <("$python" -c 'import json, sys; j = json.load(open(sys.argv[1])); print("%.1f %.0f" % (j["median_ms"], j["peak_gpu_mib"]))' "$out/$name.reference.json")
      ref_runs+=("$ms")
      for workers in default 0; do
        w=(); [[ $workers == 0 ]] && w=(--set data.workers=0)
        rm -rf "$out/${name}_workers_$workers"
        rss=$(peak_rss "$out/${name}_workers_$workers.log" "$build/maskforge" train bench/configs/train_step.yaml "${sets[@]}" "${w[@]}" \
          --set "run.out_dir=$out" --set "run.name=${name}_workers_$workers")
        ms=$(median_step "$out/${name}_workers_$workers/metrics.jsonl")
        if [[ $workers == 0 ]]; then zero_runs+=("$ms"); zero_rss=$rss; else default_runs+=("$ms"); default_rss=$rss; fi
      done
    done
    ref_ms=$(median "${ref_runs[@]}")
    row="| $workload | $batch | $ref_ms | $(images_per_s "$ref_ms" "$batch") | $ref_rss"
    [[ $device != cpu ]] && row+=" / $ref_gpu GPU"
    for workers in default 0; do
      if [[ $workers == 0 ]]; then ms=$(median "${zero_runs[@]}") rss=$zero_rss; else ms=$(median "${default_runs[@]}") rss=$default_rss; fi
      row+=" | $ms | $(images_per_s "$ms" "$batch") | $rss | $(awk -v a="$ms" -v b="$ref_ms" 'BEGIN { printf "%.2fx", a / b }')"
    done
    rows+=("$row |")
    echo "$workload batch $batch, ms/step per round: eager ${ref_runs[*]}; maskforge ${default_runs[*]}; workers 0 ${zero_runs[*]}" >&2
  done
done
echo "device: $device; threads: $OMP_NUM_THREADS; $rounds alternating rounds, each the median of $timed steps ($( [[ $device == cpu ]] && echo "$(( (timed + 3) / 4 )) at 224 x 224" || echo "all workloads")) after $warmup warm-up steps"
echo
echo "| workload | batch | eager ms/step | eager images/s | eager peak MiB | maskforge ms/step | images/s | peak MiB | vs eager | workers 0 ms/step | images/s | peak MiB | vs eager |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
