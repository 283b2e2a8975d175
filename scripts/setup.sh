#!/usr/bin/env bash
# Installs what maskforge needs and configures the build folder. Idempotent and quick
# when repeated: every step first checks whether its work is already done.
#
#   scripts/setup.sh [--python] BUILD_DIR
#     --python   also make the virtualenv that tests, tools/ and the demo need (torch, torchrun, ...)
#
# Environment:
#   LIBTORCH=/path/to/libtorch   build against this libtorch instead of the torch wheel
#   MASKFORGE_CACHE=/path        where the virtualenv lives (default ~/.cache/maskforge)
set -euo pipefail
cd "$(dirname "$0")/.."

want_python=0
if [[ "${1:-}" == "--python" ]]; then want_python=1; shift; fi
build_dir="${1:-build}"

say() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------
apt_packages=(
  cmake ninja-build g++ ccache pkg-config python3 python3-venv
  libyaml-cpp-dev libcli11-dev libspdlog-dev nlohmann-json3-dev libgtest-dev libssl-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libgloo-dev  # headers only: c10d's ProcessGroupGloo.hpp needs them (core/dist/context.cpp)
)
# Tests only: report.html is checked in a real headless browser.
((want_python)) && apt_packages+=(chromium)
missing=()
for p in "${apt_packages[@]}"; do
  [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" == ii* ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python virtualenv with the pinned torch wheel --------------------------------------
cache="${MASKFORGE_CACHE:-$HOME/.cache/maskforge}"
venv="$cache/venv"
# torch for LibTorch; with --python also what tests and tools/ use.
requirements=(scripts/requirements.txt)
((want_python)) && requirements+=(tools/requirements.txt tools/requirements-nodeps.txt)
stamp="$venv/.maskforge-$(cat "${requirements[@]}" | sha256sum | cut -c1-16)"
if [[ -z "${LIBTORCH:-}" || $want_python == 1 ]] && [[ ! -f "$stamp" ]]; then
  say "installing ${requirements[*]} into $venv (once; a few minutes)"
  mkdir -p "$cache"
  [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
  pip=("$venv/bin/pip" install -q --disable-pip-version-check)
  for r in "${requirements[@]}"; do
    if [[ $r == *nodeps* ]]; then "${pip[@]}" --no-deps -r "$r"; else "${pip[@]}" -r "$r"; fi
  done
  # A stamp per set: `make build` after `make test` must not reinstall.
  touch "$stamp" "$venv/.maskforge-$(cat scripts/requirements.txt | sha256sum | cut -c1-16)"
fi

# --- CMake configure (once; CMake re-runs itself when its files change) ----------------
if [[ -n "${LIBTORCH:-}" ]]; then
  [[ -f "$LIBTORCH/share/cmake/Torch/TorchConfig.cmake" ]] ||
    { echo "setup: LIBTORCH=$LIBTORCH has no share/cmake/Torch/TorchConfig.cmake" >&2; exit 2; }
  torch_prefix="$LIBTORCH"
else
  torch_prefix="$("$venv/bin/python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)' 2>/dev/null)"
fi
python=""; [[ -x "$venv/bin/python" ]] && python="$venv/bin/python"

cache_file="$build_dir/CMakeCache.txt"
if [[ ! -f "$build_dir/build.ninja" && ! -f "$build_dir/Makefile" ]] || ! grep -qxF "MF_TORCH_PREFIX:PATH=$torch_prefix" "$cache_file" ||
   ! grep -qxF "MF_PYTHON:FILEPATH=$python" "$cache_file"; then
  say "configuring $build_dir against $torch_prefix"
  generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
  [[ -f "$cache_file" ]] && generator=()
  mkdir -p "$build_dir"
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DMF_TORCH_PREFIX:PATH="$torch_prefix" -DMF_PYTHON:FILEPATH="$python" >"$build_dir/configure.log" 2>&1 ||
    { cat "$build_dir/configure.log" >&2; exit 1; }
fi
