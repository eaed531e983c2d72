#!/usr/bin/env bash
# Skewed-patient benchmark: the gate's cost must grow with claims, not with claims per member.
# Three replays of CLAIMS generated claims (covgate-gen, mixed 837P/837I):
#   one       every claim of one member (claims only)
#   distinct  every claim a member of its own (claims only)
#   zipf      members drawn from CLAIMS/10 by Zipf (s = 1: the top member has ~CLAIMS/10
#             claims), each with its clinical record (60 %), a third of them arriving late
# and prints one line (CPU seconds, user + system: steadier than wall time on a busy machine):
#   skew claims=N one_cpu_s=A distinct_cpu_s=B one_vs_distinct=A/B zipf_patients=P
#        zipf_top_member_claims=T zipf_cpu_s=Z zipf_claims_per_s=C zipf_peak_rss_mb=R
#   tools/bench/skew.sh [BUILD_DIR] [CLAIMS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
claims=${2:-100000}
patients=$((claims / 10 > 0 ? claims / 10 : 1))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/one" "$work/distinct" "$work/zipf"
"$build/covgate-gen" --claims "$claims" --kind mixed --patients 1 --out "$work/one/claims.x12"
"$build/covgate-gen" --claims "$claims" --kind mixed --out "$work/distinct/claims.x12"
"$build/covgate-gen" --claims "$claims" --kind mixed --patients "$patients" --zipf 1 \
  --out "$work/zipf/2-claims.x12" --facts-before "$work/zipf/1-records.ndjson" \
  --facts-after "$work/zipf/3-late-records.ndjson"
top=$(grep -o 'NM1\*IL\*1\*[^~]*' "$work/zipf/2-claims.x12" | awk -F'*' '{print $NF}' |
  sort | uniq -c | sort -rn | awk 'NR == 1 {print $1}')
run() {  # folder → "cpu_seconds peak_rss_kb"
  /usr/bin/time -f "%U %S %M" -o "$work/time" "$build/covgate" replay --ack-time 202611271200 \
    --out /dev/null --decisions /dev/null "$1" 2>/dev/null || true
  awk '{printf "%.2f %d\n", $1 + $2, $3}' "$work/time"
}
read -r one _ < <(run "$work/one")
read -r distinct _ < <(run "$work/distinct")
read -r zipf zipf_rss < <(run "$work/zipf")
awk -v n="$claims" -v one="$one" -v distinct="$distinct" -v p="$patients" -v top="$top" \
  -v zipf="$zipf" -v rss="$zipf_rss" 'BEGIN {
  printf "skew claims=%d one_cpu_s=%s distinct_cpu_s=%s one_vs_distinct=%.2f zipf_patients=%d " \
         "zipf_top_member_claims=%d zipf_cpu_s=%s zipf_claims_per_s=%d zipf_peak_rss_mb=%d\n",
         n, one, distinct, one / (distinct > 0 ? distinct : 0.01), p, top, zipf,
         n / (zipf > 0 ? zipf : 0.01), rss / 1024 }'
