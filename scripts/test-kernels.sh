#!/usr/bin/env bash
# Runs the CTest suite once per LibTorch CPU kernel path: ATEN_CPU_CAPABILITY=default, avx2
# and avx512 (each skipped, with a message, where this CPU lacks it). Kernels differ in
# rounding, so a test that holds only on one CPU's kernels fails here. Fails if any run fails.
#
#   scripts/test-kernels.sh [BUILD_DIR]        (default: build)
#
# Victims the tests train or export are cached per kernel path (build/test_victims/<path>),
# so each run also makes its own, as a machine of that kind would. Logs go to
# BUILD_DIR/test-kernels-<path>.log.
set -uo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"

scripts/setup.sh --python "$build_dir" || exit 1
cmake --build "$build_dir" -j "$(nproc)" || exit 1

flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() { for f in "$@"; do [[ "$flags" == *" $f "* ]] || return 1; done; }

declare -A result
failed=0
for kernels in default avx2 avx512; do
  # The instruction sets ATen's dispatcher requires for each path (ATen/native/DispatchStub.cpp).
  case $kernels in
    avx2) needs=(avx2 fma) ;;
    avx512) needs=(avx512f avx512bw avx512vl avx512dq fma) ;;
    *) needs=() ;;
  esac
  if ((${#needs[@]})) && ! has "${needs[@]}"; then
    echo "test-kernels: skipping $kernels: this CPU lacks one of: ${needs[*]}"
    result[$kernels]="skipped (CPU lacks it)"
    continue
  fi
  log="$build_dir/test-kernels-$kernels.log"
  echo "test-kernels: ATEN_CPU_CAPABILITY=$kernels (log: $log)"
  start=$SECONDS
  if (cd "$build_dir" && ATEN_CPU_CAPABILITY=$kernels ctest --output-on-failure -j "$(nproc)") >"$log" 2>&1; then
    result[$kernels]="passed: $(grep -m1 'tests passed' "$log"), $((SECONDS - start)) s"
  else
    result[$kernels]="FAILED: $(grep -E '^[[:space:]]+[0-9]+ - ' "$log" | sed -E 's/^[[:space:]]+[0-9]+ - //' | paste -sd, -)"
    failed=1
  fi
done

echo
for kernels in default avx2 avx512; do printf '%-8s %s\n' "$kernels" "${result[$kernels]}"; done
exit $failed
