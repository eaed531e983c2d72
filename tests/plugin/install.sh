#!/usr/bin/env bash
# cmake --install into a temporary prefix; the C example of plugins/c built against that copy
# twice (cc with pkg-config, and CMake's find_package(covgate)), each run on a scenario whose
# claim is held and then released by a later lab.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cmake=${CMAKE:-cmake}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cmake" --install "$BUILD_DIR" --prefix "$tmp/prefix" >"$tmp/install.log"
libdir=$(dirname "$(find "$tmp/prefix" -name 'libcovgate.so' | head -1)")
for f in include/covgate/covgate.h; do
  [ -f "$tmp/prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
pc=$(find "$tmp/prefix" -name covgate.pc | head -1)
config=$(find "$tmp/prefix" -name covgate-config.cmake | head -1)
[ -n "$pc" ] && [ -n "$config" ] || { echo "FAIL: no pkg-config file or CMake package"; exit 1; }
scenario=$root/samples/inputs/scenarios/02-csii-release-after-late-lab
check() {  # binary
  LD_LIBRARY_PATH=$libdir "$1" "$scenario"/* >"$tmp/out"
  grep -q '2-claim.x12: hold' "$tmp/out" &&
    grep -q '3-late-labs.json: accepted' "$tmp/out" &&
    grep -q '^later release 1999999984_CSII-LATE-2: release' "$tmp/out" ||
    { echo "FAIL: unexpected output of $1:"; cat "$tmp/out"; exit 1; }
}
# 1. cc and pkg-config
PKG_CONFIG_PATH=$(dirname "$pc") cc -std=c11 -Wall -Wextra -Werror "$root/plugins/c/example.c" \
  $(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs covgate) -o "$tmp/example-pc"
check "$tmp/example-pc"
# 2. CMake find_package(covgate)
"$cmake" -S "$root/plugins/c" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
"$cmake" --build "$tmp/build" >/dev/null
check "$tmp/build/covgate-example"
cat "$tmp/out"
echo "2 passed, 0 failed"
