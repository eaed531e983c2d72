#!/usr/bin/env bash
# End-to-end gate benchmark: generates N claims (covgate-gen, mixed 837P/837I), replays them
# (parse + evaluate + 277 + decision lines) and prints one machine-readable line:
#   gate claims=N bytes=B seconds=S claims_per_s=C mb_per_s=M peak_rss_mb=R
#   tools/bench/gate.sh [BUILD_DIR] [CLAIMS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
claims=${2:-200000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/covgate-gen" --claims "$claims" --kind mixed --out "$work/claims.x12"
bytes=$(stat -c %s "$work/claims.x12")
/usr/bin/time -f "%e %M" -o "$work/time" "$build/covgate" replay --ack-time 202611271200 \
  --out /dev/null --decisions /dev/null "$work/claims.x12" 2>"$work/summary" || true
read -r seconds rss_kb <"$work/time"
node -e "
  const [claims, bytes, s, rss] = process.argv.slice(1).map(Number);
  console.log('gate claims=' + claims + ' bytes=' + bytes + ' seconds=' + s +
    ' claims_per_s=' + Math.round(claims / s) + ' mb_per_s=' + (bytes / 1e6 / s).toFixed(1) +
    ' peak_rss_mb=' + Math.round(rss / 1024));
" "$claims" "$bytes" "$seconds" "$rss_kb"
head -1 "$work/summary"
