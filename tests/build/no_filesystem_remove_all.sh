#!/bin/sh
# No source calls std::filesystem::remove_all: the libtorch.so of some wheels (2.11, the lent
# GPU machines') exports its own copy, which crashes on a folder, and the executables bind to
# it there. checkpoints::remove_tree removes folders instead.
#   no_filesystem_remove_all.sh SOURCE_DIR
set -eu
cd "$1"
found=$(grep -rn --include='*.cpp' --include='*.h' 'remove_all(' . --exclude-dir='build*' --exclude-dir=runs || true)
[ -z "$found" ] || { echo "FAIL: std::filesystem::remove_all is called (use checkpoints::remove_tree):"; echo "$found"; exit 1; }
echo "ok: no call of std::filesystem::remove_all"
