#!/usr/bin/env bash
# The HL7 v2 benchmark report: ER7 → facts on a generated file of ORU^R01 messages (MB/s and
# OBX/s), with @medplum/core's Hl7Message.parse reading the same bytes in the same run (the
# ratio is the figure to compare across machines).
#   tools/bench/hl7v2.sh [BUILD_DIR]      (MESSAGES=20000 to change the size)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
messages=${MESSAGES:-20000}
peer="$root/tools/bench/hl7v2-peer"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/hl7v2_bench" --messages "$messages" --out "$work/oru.hl7" --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_format=json >"$work/bench.json"
echo "input: $messages ORU^R01 messages, $(stat -c %s "$work/oru.hl7") bytes"
ours=$(node -e '
  // Google Benchmark writes nan for a zero-variance counter; JSON has no nan.
  const text = require("fs").readFileSync(process.argv[1], "utf8").replace(/-?\b(nan|NaN)\b/g, "null");
  const r = JSON.parse(text).benchmarks.filter((b) => b.aggregate_name === "median");
  const name = (b) => b.run_name.split("/")[0];
  for (const b of r) {
    const items = name(b) === "read" ? `, ${(b.items_per_second / 1e3).toFixed(0)}k OBX/s` : "";
    console.log(`covgate ${name(b)}: ${(b.bytes_per_second / 1e6).toFixed(0)} MB/s${items}`);
  }
  const read = r.find((b) => name(b) === "read");
  const tokenize = r.find((b) => name(b) === "tokenize");
  console.log(`#read ${read.bytes_per_second / 1e6} ${tokenize.bytes_per_second / 1e6}`);
' "$work/bench.json")
echo "$ours" | grep -v '^#'
if [ ! -d "$peer/node_modules/@medplum/core" ]; then
  npm ci --prefix "$peer" --no-audit --no-fund --loglevel=error >/dev/null
fi
read -r peer_mbs peer_obx peer_messages peer_count < <(node "$peer/peer.mjs" "$work/oru.hl7")
echo "@medplum/core Hl7Message.parse (same file, same run): $peer_mbs MB/s," \
  "$((${peer_obx%.*} / 1000))k OBX/s ($peer_messages messages, $peer_count OBX)"
read -r read_mbs tokenize_mbs < <(echo "$ours" | sed -n 's/^#read //p')
# The peer tokenizes (every segment, field and component split); covgate's tokenize does the
# same work, its read also maps to facts (ids, unit conversion, ranges, dates).
node -e "console.log('ratio read (ER7 → facts) / @medplum/core: ' + ($read_mbs / $peer_mbs).toFixed(1) +
  'x; ratio tokenize / @medplum/core: ' + ($tokenize_mbs / $peer_mbs).toFixed(1) + 'x')"
