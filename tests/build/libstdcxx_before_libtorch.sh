#!/bin/sh
# The executable needs libstdc++ before LibTorch (cmake/Torch.cmake): libtorch.so of some
# wheels (2.11) exports its own copy of std::filesystem, whose remove_all crashes, and the
# loader binds each symbol to the first needed library that defines it.
#   libstdcxx_before_libtorch.sh BUILD/maskforge
set -eu
needed=$(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
stdcxx=$(echo "$needed" | grep -n '^libstdc++\.so' | cut -d: -f1)
torch=$(echo "$needed" | grep -n '^libtorch\.so' | cut -d: -f1)
[ -n "$stdcxx" ] && [ -n "$torch" ] || { echo "FAIL: $1 does not need both libstdc++ and libtorch:"; echo "$needed"; exit 1; }
[ "$stdcxx" -lt "$torch" ] || { echo "FAIL: libstdc++ is needed after libtorch.so:"; echo "$needed"; exit 1; }
echo "ok: libstdc++ is needed before libtorch.so"
