#!/usr/bin/env bash
# Messages/s in-process (engine::intake), through libcovgate's C ABI, and through the Python
# and Node.js bindings, on the same workload. Usage: plugin.sh [BUILD_DIR] [CLAIMS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
claims=${2:-20000}
"$build/plugin_bench" --claims "$claims" --samples "$root/samples/inputs/scenarios"
COVGATE_LIBRARY=$build/libcovgate.so python3 "$root/tools/bench/plugin_python.py" "$claims"
if [ -d "$root/plugins/node-red/node_modules/koffi" ]; then
  COVGATE_LIBRARY=$build/libcovgate.so node "$root/tools/bench/plugin_node.js" "$claims"
else
  echo "(Node.js binding skipped: run bash plugins/node-red/test.sh once to install koffi)"
fi
