#!/usr/bin/env bash
# Builds the Tcl extension (covgate.c against tcl8.6-dev's stubs and libcovgate) and runs its
# tcltest tests. Usage: test.sh LIBCOVGATE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -DUSE_TCL_STUBS -I/usr/include/tcl8.6 \
  -I"$root/include" "$here/covgate.c" -o "$tmp/libcovgatetcl.so" \
  -L/usr/lib/x86_64-linux-gnu -ltclstub8.6 "$lib" -Wl,-rpath,"$(dirname "$lib")"
cp "$here/pkgIndex.tcl" "$tmp/"
cd "$tmp"
TCLLIBPATH="$tmp" tclsh8.6 "$here/tests/covgate.test" "$root"
