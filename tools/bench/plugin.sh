#!/usr/bin/env bash
# Messages/s in-process (engine::intake), through libcovgate's C ABI, and through the Python
# binding, on the same workload. Usage: plugin.sh [BUILD_DIR] [CLAIMS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
claims=${2:-20000}
"$build/plugin_bench" --claims "$claims" --samples "$root/samples/inputs/scenarios"
COVGATE_LIBRARY=$build/libcovgate.so python3 "$root/tools/bench/plugin_python.py" "$claims"
