#!/usr/bin/env bash
# What only a GPU can show, on a GPU machine without Debian packages or network (one H100 or
# H200 with CUDA, CMake, ninja and PyTorch): builds maskforge against that PyTorch's LibTorch
# and the dependencies of DEPS (made by scripts/fetch-gpu-deps.sh on a Debian machine and
# carried over), runs the CUDA tests (`gpu_test`: autocast, NCCL with one rank, CUDA RNG
# resume, CUDA graphs; they skip on machines without a GPU), then the GPU benchmark
# (bench/train_step.sh on `cuda`: maskforge against eager PyTorch, images/s for 32 x 32 at
# batch 64 and 256 and 224 x 224 at batch 64), and prints one table.
#
#   scripts/gpu-check.sh [DEPS]            (default build-gpu-deps)
#
# Environment: PYTHON (default python3, the one with torch), BUILD (default build-gpu),
# BUILD_ONLY=1 to stop after the build (for GPU work of one's own against that build),
# FACES_SECONDS to train the face generator meanwhile (below), ROUNDS for the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
deps="$(realpath "${1:-build-gpu-deps}")"
build="${BUILD:-build-gpu}"
python="${PYTHON:-python3}"
say() { printf '\033[1mgpu-check:\033[0m %s\n' "$*" >&2; }

[[ -f "$deps/.complete" ]] || { say "$deps is not a finished scripts/fetch-gpu-deps.sh folder"; exit 2; }
torch_prefix="$("$python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')"
say "torch $("$python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda, "GPU:", torch.cuda.get_device_name() if torch.cuda.is_available() else "none")')"

# The eager reference needs Pillow and PyYAML besides torch: from the wheels DEPS carries
# where that python lacks them, installed beside the build (a virtualenv would not see torch
# when that python is itself a virtualenv's, as on the lent machines).
if ! "$python" -c 'import PIL, yaml' 2>/dev/null; then
  "$python" -m pip install -q --no-index --find-links "$deps/wheels" --target "$build/python" pillow pyyaml
  export PYTHONPATH="$(realpath "$build/python")${PYTHONPATH:+:$PYTHONPATH}"
fi
python="$(command -v "$python")"

# Debian's packages keep their layout under DEPS/usr; their CMake files are named one by one,
# since CMake looks in lib/x86_64-linux-gnu/ only on machines whose compiler says that triple.
# (Their shared libraries need a libstdc++ from GCC 12 or later, as Debian 12 has.)
debian="$deps/usr" arch="$deps/usr/lib/x86_64-linux-gnu"
start=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMF_TORCH_PREFIX="$torch_prefix" -DMF_PYTHON="$python" \
  -DCMAKE_PREFIX_PATH="$deps;$debian" -DOpenCV_DIR="$deps/lib/cmake/opencv4" -Dyaml-cpp_DIR="$arch/cmake/yaml-cpp" \
  -Dspdlog_DIR="$arch/cmake/spdlog" -Dfmt_DIR="$arch/cmake/fmt" -DGTest_DIR="$arch/cmake/GTest" \
  -DCLI11_DIR="$debian/share/cmake/CLI11" -Dnlohmann_json_DIR="$debian/share/cmake/nlohmann_json" \
  -DOPENSSL_ROOT_DIR="$debian" -DOPENSSL_INCLUDE_DIR="$debian/include" -DOPENSSL_CRYPTO_LIBRARY="$arch/libcrypto.so" \
  -DCMAKE_CXX_FLAGS="-isystem $debian/include/x86_64-linux-gnu" -DMF_CCACHE=OFF >"$build.configure.log" 2>&1 ||
  { tail -30 "$build.configure.log" >&2; exit 1; }
cmake --build "$build" -j "$(nproc)" --target maskforge gpu_test
say "built in $(($(date +%s) - start)) s"
[[ "${BUILD_ONLY:-0}" == 1 ]] && exit 0

# The executables find DEPS's libraries through their run path, but libspdlog's own libfmt
# only through the loader's search path.
export LD_LIBRARY_PATH="$arch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
status=0
# With FACES_SECONDS=N, configs/spam_faces_guided.yaml's face generator trains on the GPU
# for N seconds (scripts/train-for.sh) beside the tests, against the cascade DEPS carries;
# the benchmark waits for it. Its generator is exported to BUILD/spam_faces_guided.ts.pt.
faces=
if ((${FACES_SECONDS:-0} > 0)); then
  scripts/train-for.sh "$FACES_SECONDS" "$build" configs/spam_faces_guided.yaml --set run.device=cuda --set run.out_dir="$build/runs" \
    --set data.root="$deps/assets/faces/lfw_subset" --set victims.0.path="$deps/assets/victims/mtcnn.pt" >"$build/faces.log" 2>&1 &
  faces=$!
fi
"$build/tests/gpu_test" --gtest_brief=1 2>&1 | tee "$build/gpu_test.log" || status=1
if [[ -n $faces ]]; then
  if wait "$faces" && "$build/maskforge" export "$build/runs/spam_faces_guided" --out "$build/spam_faces_guided.ts.pt" >>"$build/faces.log" 2>&1; then
    say "face generator: $(grep -o 'step [0-9]*/[0-9]* | [0-9.]* step/s' "$build/faces.log" | tail -1), exported to $build/spam_faces_guided.ts.pt"
  else
    tail -20 "$build/faces.log" >&2
    status=1
  fi
fi

# The benchmark reads its images and victims from DEPS (fetch-gpu-deps.sh copied them).
export MF_ASSETS="$deps/assets" MF_VICTIMS="$deps/assets/victims" MASKFORGE_PYTHON="$python"
DEVICE=cuda ROUNDS="${ROUNDS:-1}" bench/train_step.sh "$build" 40 | tee "$build/train_step.md" || status=1

echo
echo "## GPU check on $("$python" -c 'import torch; print(torch.cuda.get_device_name())')"
echo
grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$build/gpu_test.log" || true
echo
cat "$build/train_step.md"
exit $status
