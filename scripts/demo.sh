#!/usr/bin/env bash
# The main job of `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
"$build/maskforge" --version
