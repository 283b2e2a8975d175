#!/usr/bin/env bash
# The face evaluations: exports MTCNN's P-Net and the whole cascade from the real weights of
# ../shared/assets to runs/victims (once); evaluates every baseline protection against P-Net
# on the 100 LFW photos (configs/eval_faces.yaml); measures per-image PGD-40 against the
# cascade at 4, 8 and 16/255 on the 3 identities configs/spam_faces.yaml holds out
# (configs/eval_faces_cascade.yaml).
#
#   scripts/eval-faces.sh [BUILD_DIR]      (after make build or make test)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
python="${MASKFORGE_CACHE:-$HOME/.cache/maskforge}/venv/bin/python"
mkdir -p runs/victims
[[ -f runs/victims/pnet.pt ]] || "$python" tools/export_victim.py mtcnn_pnet --weights ../shared/assets/weights/mtcnn_pnet.pt --out runs/victims/pnet.pt
[[ -f runs/victims/mtcnn.pt ]] || "$python" tools/export_victim.py mtcnn --weights ../shared/assets/weights --out runs/victims/mtcnn.pt
"$build/maskforge" eval configs/eval_faces.yaml
"$build/maskforge" eval configs/eval_faces_cascade.yaml
