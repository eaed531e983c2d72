#!/usr/bin/env bash
# Partition snapshots (docs/cluster.md §5j): CLAIMS generated claims (covgate-gen, mixed
# 837P/837I) with their patients' records replayed into a store (covgate replay --store), then
# every partition's snapshot written from it and loaded into an empty store
# (snapshot_bench). Prints the bench's line:
#   snapshot partitions=P claims=C facts=F snapshot_mb=B write_s=W write_max_ms=M
#            write_mb_per_s=X load_s=L load_mb_per_s=Y
#   replace partitions=P claims=C replace_s=R replace_max_ms=M
#   tools/bench/snapshot.sh [BUILD_DIR] [CLAIMS] [PARTITIONS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
claims=${2:-20000}
partitions=${3:-64}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/day"
"$build/covgate-gen" --claims "$claims" --kind mixed --out "$work/day/2-claims.x12" \
  --facts-before "$work/day/1-records.ndjson" --facts-after "$work/day/3-late-records.ndjson"
"$build/covgate" replay --no-progress --ack-time 202611271200 --out /dev/null \
  --decisions /dev/null --store "$work/store" "$work/day" 2>/dev/null || true
"$build/snapshot_bench" "$work/store" "$partitions"
