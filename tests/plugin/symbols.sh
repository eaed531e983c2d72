#!/usr/bin/env bash
# libcovgate.so exports the functions of covgate.h and nothing else, and covgate.h compiles as
# C11 with every warning an error. Usage: symbols.sh LIBRARY HEADER
set -euo pipefail
lib=$1 header=$2
fail=0
# Defined dynamic symbols, without the version node itself (COVGATE_1, type A).
exported=$(nm -D --defined-only "$lib" | awk '$2 != "A" {print $3}' | sed 's/@.*//' | sort)
others=$(grep -v '^covgate_' <<<"$exported" || true)
if [ -n "$others" ]; then
  echo "FAIL: exported symbols that are not covgate_*:"; echo "$others" | head -20; fail=1
fi
# Every function the header declares is exported, and nothing the header does not declare.
declared=$(grep -oE '\bcovgate_[a-z_]+\(' "$header" | tr -d '(' | sort -u)
if [ "$declared" != "$exported" ]; then
  echo "FAIL: the header's functions and the exports differ:"
  diff <(echo "$declared") <(echo "$exported") || true
  fail=1
fi
echo "exported: $(wc -l <<<"$exported") functions"
# The header on its own, as C11 and as C++ (hosts include it from both).
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include "covgate/covgate.h"\nint main(void) { return (int)covgate_abi_version() - COVGATE_ABI_VERSION; }\n' >"$tmp/h.c"
if ! "$cc" -std=c11 -Wall -Wextra -Werror -pedantic -I"$(dirname "$header")/.." -c "$tmp/h.c" -o "$tmp/h.o"; then
  echo "FAIL: covgate.h does not compile as C11 with -Wall -Wextra -Werror -pedantic"; fail=1
fi
if ! "${CXX:-c++}" -std=c++17 -Wall -Wextra -Werror -pedantic -x c++ -I"$(dirname "$header")/.." \
    -c "$tmp/h.c" -o "$tmp/hpp.o"; then
  echo "FAIL: covgate.h does not compile as C++17"; fail=1
fi
if [ "$fail" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit "$fail"
