#!/usr/bin/env bash
# `covgate parse` against node-x12 on the same file: CLAIMS generated claims (covgate-gen,
# mixed 837P/837I) turned into JSON on a null output, by covgate (837 → model → JSON Lines)
# and by node-x12 (split on ISA, X12Parser.parse, JSON.stringify of each transaction, written
# to a /dev/null stream), each timed as a whole process with /usr/bin/time. Prints one line
# (CPU seconds, user + system: steadier than wall time on a busy machine; ratio = node-x12 /
# covgate, on CPU and on wall time):
#   parse_s=A node_x12_s=B ratio=B/A parse_wall_s=C node_x12_wall_s=D wall_ratio=D/C claims=N
#   tools/bench/parse.sh [BUILD_DIR] [CLAIMS]      (CLAIMS defaults to 100000, about 35 MB)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
claims=${2:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/covgate-gen" --claims "$claims" --kind mixed --out "$work/claims.x12"
if [ ! -d "$root/tests/corpus/node_modules/node-x12" ]; then
  npm ci --prefix "$root/tests/corpus" --no-audit --no-fund --loglevel=error >/dev/null
fi
cat >"$work/peer.js" <<'EOF'
const { X12Parser } = require(process.argv[2] + "/node_modules/node-x12");
const fs = require("fs");
// node-x12 reads one interchange per parse: split the stream on ISA, as its users do.
const text = fs.readFileSync(process.argv[3], "utf8");
const out = fs.createWriteStream("/dev/null");
for (const part of text.split(/(?=ISA\*)/)) {
  if (!part.startsWith("ISA")) continue;
  const i = new X12Parser(false).parse(part);
  for (const g of i.functionalGroups) for (const t of g.transactions) {
    out.write(JSON.stringify(t) + "\n");
  }
}
out.end();
EOF
timed() {  # command... → "cpu_seconds wall_seconds"
  /usr/bin/time -f "%U %S %e" -o "$work/time" "$@" >/dev/null
  awk '{printf "%.2f %.2f\n", $1 + $2, $3}' "$work/time"
}
read -r ours ours_wall < <(timed "$build/covgate" parse "$work/claims.x12")
read -r peer peer_wall < <(timed node "$work/peer.js" "$root/tests/corpus" "$work/claims.x12")
awk -v a="$ours" -v b="$peer" -v c="$ours_wall" -v d="$peer_wall" -v n="$claims" 'BEGIN {
  printf "parse_s=%s node_x12_s=%s ratio=%.1f parse_wall_s=%s node_x12_wall_s=%s " \
         "wall_ratio=%.1f claims=%d\n", a, b, b / (a > 0 ? a : 0.01), c, d,
         d / (c > 0 ? c : 0.01), n }'
