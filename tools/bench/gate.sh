#!/usr/bin/env bash
# End-to-end gate benchmark: generates N claims (covgate-gen, mixed 837P/837I) with the
# clinical records of 60 % of their patients (FHIR NDJSON, a third of them arriving after the
# claims), replays records, claims, late records (parse + evaluate + 277 + decision lines) and
# prints one machine-readable line:
#   gate claims=N facts=F bytes=B seconds=S claims_per_s=C mb_per_s=M peak_rss_mb=R
# then the same replay with its NDJSON read on the gate's thread (--read-threads 0; the first
# reads it ahead on one thread per core), the parser alone on the same claims (covgate check,
# pinned to each of two vCPUs in turn, their mean) as the in-run reference, and the same claims replayed without records: its claims/s, the resident memory each stored
# fact costs (peak RSS with records read on one thread minus without records, divided by the
# facts), and what reading ahead adds to the peak (batches in flight, not stored facts).
#   tools/bench/gate.sh [BUILD_DIR] [CLAIMS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
claims=${2:-200000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/day"
"$build/covgate-gen" --claims "$claims" --kind mixed --out "$work/day/2-claims.x12" \
  --facts-before "$work/day/1-records.ndjson" --facts-after "$work/day/3-late-records.ndjson"
bytes=$(cat "$work"/day/* | wc -c)
/usr/bin/time -f "%e %M" -o "$work/time" "$build/covgate" replay --ack-time 202611271200 \
  --out /dev/null --decisions /dev/null "$work/day" 2>"$work/summary" || true
read -r seconds rss_kb < <(tail -1 "$work/time")
# The same day with its NDJSON read on the gate's thread (--read-threads 0): what reading
# ahead on the other cores gains, in the same run.
/usr/bin/time -f "%e %M" -o "$work/one-thread-time" "$build/covgate" replay --read-threads 0 \
  --ack-time 202611271200 --out /dev/null --decisions /dev/null "$work/day" 2>/dev/null || true
read -r one_thread_seconds one_thread_rss_kb < <(tail -1 "$work/one-thread-time")
# The summary's line, wherever it stands on stderr; a run without it is no figure at all.
facts=$(sed -n 's/^covgate replay: .*), \([0-9]*\) facts/\1/p' "$work/summary" | head -1)
if [ -z "$facts" ]; then
  echo "gate.sh: the replay printed no summary line; its stderr:" >&2
  cat "$work/summary" >&2
  exit 1
fi
# The reference: `check` reads on one thread, the replays above on all of them, and the vCPUs
# of a shared machine do not always run at one speed (docs/performance.md). So `check` runs
# pinned to each of the first two vCPUs in turn, and the reference is the mean of the two.
check_on() {  # [vCPU]: prints "seconds rss_kb"
  local pin=()
  [ -n "${1:-}" ] && pin=(taskset -c "$1")
  "${pin[@]}" /usr/bin/time -f "%e %M" -o "$work/check-time" "$build/covgate" check \
    --ack-time 202611271200 "$work/day/2-claims.x12" >/dev/null 2>&1 || true
  tail -1 "$work/check-time"
}
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  read -r check_0 check_rss_kb < <(check_on 0)
  read -r check_1 _ < <(check_on 1)
  check_seconds=$(node -e "console.log(((${check_0} + ${check_1}) / 2).toFixed(3))")
  check_each="$check_0,$check_1"
else
  read -r check_seconds check_rss_kb < <(check_on)
  check_each=$check_seconds
fi
mkdir "$work/claims-only"
ln -s "$work/day/2-claims.x12" "$work/claims-only/claims.x12"
/usr/bin/time -f "%e %M" -o "$work/claims-time" "$build/covgate" replay --ack-time 202611271200 \
  --out /dev/null --decisions /dev/null "$work/claims-only" 2>/dev/null || true
read -r claims_seconds claims_rss_kb < <(tail -1 "$work/claims-time")
node -e "
  const [claims, facts, bytes, s, rss, cs, crss, os, orss, ts, trss] =
    process.argv.slice(1).map(Number);
  console.log('gate claims=' + claims + ' facts=' + facts + ' bytes=' + bytes + ' seconds=' + s +
    ' claims_per_s=' + Math.round(claims / s) + ' mb_per_s=' + (bytes / 1e6 / s).toFixed(1) +
    ' peak_rss_mb=' + Math.round(rss / 1024));
  console.log('gate-one-thread claims=' + claims + ' seconds=' + ts + ' claims_per_s=' +
    Math.round(claims / ts) + ' peak_rss_mb=' + Math.round(trss / 1024) +
    ' read_ahead_gain=' + (ts / s).toFixed(2));
  console.log('check claims=' + claims + ' seconds=' + cs + ' claims_per_s=' +
    Math.round(claims / cs) + ' peak_rss_mb=' + Math.round(crss / 1024) +
    ' gate_vs_check=' + (cs / s).toFixed(2) + ' seconds_per_vcpu=' + process.argv[12]);
  console.log('claims-only claims=' + claims + ' seconds=' + os + ' claims_per_s=' +
    Math.round(claims / os) + ' peak_rss_mb=' + Math.round(orss / 1024) +
    ' bytes_per_fact=' + Math.round((trss - orss) * 1024 / Math.max(facts, 1)) +
    ' read_ahead_extra_mb=' + Math.round((rss - trss) / 1024));
" "$claims" "$facts" "$bytes" "$seconds" "$rss_kb" "$check_seconds" "$check_rss_kb" \
  "$claims_seconds" "$claims_rss_kb" "$one_thread_seconds" "$one_thread_rss_kb" "$check_each"
cat "$work/summary" | head -6
