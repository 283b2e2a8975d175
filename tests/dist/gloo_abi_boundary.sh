#!/bin/sh
# Checks the claim core/dist/context.cpp makes for compiling against Debian's gloo headers:
# the program uses ProcessGroupGloo only through functions libtorch exports, and defines or
# references nothing of gloo's own (no symbol of namespace gloo, no inline GlooStore code).
#   gloo_abi_boundary.sh BUILD/maskforge
set -eu
symbols=$(nm -C "$1")
echo "$symbols" | grep -q 'c10d::ProcessGroupGloo::ProcessGroupGloo(' || { echo "FAIL: $1 does not reference ProcessGroupGloo's constructor"; exit 1; }
if echo "$symbols" | grep -E 'gloo::|GlooStore'; then
  echo "FAIL: the symbols above come from gloo's headers, which need not match the gloo inside libtorch"
  exit 1
fi
echo "ok: ProcessGroupGloo is used through libtorch's exported functions only"
