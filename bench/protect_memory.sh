#!/usr/bin/env bash
# Peak memory of `maskforge protect` over folders of 100 and 10,000 photos (JPEGs of mixed
# sizes around 0.1 megapixel, a small generator): flat memory means the peak does not grow
# with the number of images. Then the same with a decompression bomb in the folder: a
# valid 1.2 MB PNG of 20000 x 20000 pixels, which must be skipped before decoding.
#   bench/protect_memory.sh [BUILD_DIR] [COUNTS...]       (default counts: 100 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"; shift || true
counts=("${@:-100 10000}"); counts=(${counts[@]})
scripts/setup.sh --python "$build" >/dev/null
cmake --build "$build" --target maskforge >/dev/null
python="$(sed -n 's/^MF_PYTHON:FILEPATH=//p' "$build/CMakeCache.txt")"
mf="$build/maskforge"
out="$build/bench_data/protect_memory"
mkdir -p "$out"

# A small generator (its weights do not change the memory): two training steps.
if [[ ! -f "$out/generator.pt" ]]; then
  cat >"$out/config.yaml" <<'YAML'
version: 1
run: {name: g}
data: {dataset: synthetic, images: 64, size: 32, batch_size: 8}
generator: {arch: resnet, width: 16, blocks: 2}
victims:
  - {name: net, kind: classifier, source: builtin, classes: 10}
losses:
  - {name: untargeted_ce}
trainer: {kind: spam, steps: 2, val_every: 0, sample_every: 0}
YAML
  "$mf" train "$out/config.yaml" --set run.out_dir="$out" >/dev/null
  "$mf" export "$out/g" --out "$out/generator.pt" >/dev/null
fi

# measure N LOG COMMAND...: one table row, peak resident memory from the kernel's rusage.
measure() {
  "$python" - "$@" <<'PY'
import resource, subprocess, sys, time
n, log, command = sys.argv[1], sys.argv[2], sys.argv[3:]
start = time.time()
with open(log, "w") as f:
    subprocess.run(command, stdout=f, stderr=subprocess.STDOUT, check=True)
seconds = time.time() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"| {n} | {peak:.0f} MiB | {seconds:.1f} s |")
PY
}

printf '| images | peak RSS | time |\n|---|---|---|\n'
for n in "${counts[@]}"; do
  if [[ ! -d "$out/in$n" ]]; then
    "$python" - "$out/in$n" "$n" <<'PY'
import os, random, sys
from PIL import Image
folder, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(0)
for i in range(n):
    sub = os.path.join(folder, f"{i // 1000:02d}")
    os.makedirs(sub, exist_ok=True)
    w, h = [(320, 240), (400, 300), (300, 400)][i % 3]
    base = Image.frombytes("RGB", (w // 8, h // 8), rng.randbytes(3 * (w // 8) * (h // 8)))
    base.resize((w, h), Image.BILINEAR).save(os.path.join(sub, f"{i:05d}.jpg"), quality=90)
PY
  fi
  rm -rf "$out/out$n"
  measure "$n" "$out/log$n" "$mf" protect --model "$out/generator.pt" --input "$out/in$n" --output "$out/out$n"
done

# The bomb: rows of zeros compress 1000:1, so 1.2 GB of pixels fit in 1.2 MB.
mkdir -p "$out/bomb"
cp "$out/in${counts[0]}/00/00000.jpg" "$out/bomb/"
"$python" - "$out/bomb/bomb.png" <<'PY'
import struct, sys, zlib
side = 20000
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
z = zlib.compressobj(9)
row = bytes(1 + 3 * side)  # filter byte 0, then black RGB pixels
idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
PY
rm -rf "$out/outbomb"
measure "1 photo + a $(du -h "$out/bomb/bomb.png" | cut -f1) PNG bomb" "$out/logbomb" "$mf" protect --model "$out/generator.pt" --input "$out/bomb" --output "$out/outbomb"
grep -o "skipping.*" "$out/logbomb"
