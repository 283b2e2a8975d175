#!/usr/bin/env bash
# configs/eval_photo_scale.yaml from scratch, after `make demo` (its generator): enlarges
# every fifth of the first 1,000 CIFAR-10 test images to 256 x 256 (bicubic) into
# runs/cifar10_test_256, then evaluates the generator on them at full resolution and at
# its training size.
#   scripts/eval-photo-scale.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
python="${MASKFORGE_CACHE:-$HOME/.cache/maskforge}/venv/bin/python"
[[ -f runs/demo/export/generator.ts.pt ]] || { echo "run make demo first (it trains the generator)" >&2; exit 2; }
if [[ ! -d runs/cifar10_test_256 ]]; then
  "$python" - <<'PY'
import glob, os
from PIL import Image
for f in sorted(glob.glob("../shared/assets/cifar10/test/*/*"))[::5][:200]:
    folder = os.path.join("runs/cifar10_test_256", os.path.basename(os.path.dirname(f)))
    os.makedirs(folder, exist_ok=True)
    name = os.path.splitext(os.path.basename(f))[0] + ".png"
    Image.open(f).convert("RGB").resize((256, 256), Image.BICUBIC).save(os.path.join(folder, name))
PY
fi
"$build/maskforge" eval configs/eval_photo_scale.yaml
