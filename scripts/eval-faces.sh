#!/usr/bin/env bash
# The face evaluation of configs/eval_faces.yaml: exports MTCNN's P-Net from the real weights
# of ../shared/assets to runs/victims (once), then evaluates every protection.
#
#   scripts/eval-faces.sh [BUILD_DIR] [--set ...]      (after make build or make test)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift $(( $# > 0 ? 1 : 0 ))
python="${MASKFORGE_CACHE:-$HOME/.cache/maskforge}/venv/bin/python"
mkdir -p runs/victims
[[ -f runs/victims/pnet.pt ]] || "$python" tools/export_victim.py mtcnn_pnet --weights ../shared/assets/weights/mtcnn_pnet.pt --out runs/victims/pnet.pt
"$build/maskforge" eval configs/eval_faces.yaml "$@"
