#!/usr/bin/env bash
# The whole test suite through ctest: unit, golden, corpus (with node-x12), fuzz seeds and
# benchmark smoke runs. Installs what it needs first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh" "$@"
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 600 --parallel "$(nproc)"
