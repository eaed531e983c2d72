#!/usr/bin/env bash
# End-to-end gate benchmark: generates N claims (covgate-gen, mixed 837P/837I) with the
# clinical records of 60 % of their patients (FHIR NDJSON, a third of them arriving after the
# claims), replays records, claims, late records (parse + evaluate + 277 + decision lines) and
# prints one machine-readable line:
#   gate claims=N facts=F bytes=B seconds=S claims_per_s=C mb_per_s=M peak_rss_mb=R seconds_each=…
# then the same replay with its NDJSON read on the gate's thread (--read-threads 0; the first
# reads it ahead on one thread per core), the parser alone on the same claims (covgate check,
# pinned to each of two vCPUs in turn, their mean) as the in-run reference, and the same claims replayed without records: its claims/s, the resident memory each stored
# fact costs (peak RSS with records read on one thread minus without records, divided by the
# facts), and what reading ahead adds to the peak (batches in flight, not stored facts).
# The day's replay, the claims-only replay and check run RUNS times each (default 3), taking
# turns so that a slow minute of a shared machine falls on all three; each line gives the
# median's figures and every run's seconds (seconds_each), and the peak RSS is the highest of
# the runs. gate_vs_check is the median of each round's ratio (its check's seconds over its
# day's), so a round the machine ran slow compares with itself (its vCPUs change speed, up to
# twice, within minutes); gate_vs_check_each gives every round's. The
# replay lines also give the CPU time of the median run (cpu_s, user + system) and how many
# cores it kept busy (cores_busy = cpu_s / seconds): on a machine whose vCPUs change speed, a
# slow run with as much CPU shows the machine, one with more CPU shows the code.
#   tools/bench/gate.sh [BUILD_DIR] [CLAIMS]      (RUNS=5 for more runs)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
claims=${2:-200000}
runs=${RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/day" "$work/claims-only"
"$build/covgate-gen" --claims "$claims" --kind mixed --out "$work/day/2-claims.x12" \
  --facts-before "$work/day/1-records.ndjson" --facts-after "$work/day/3-late-records.ndjson"
ln -s "$work/day/2-claims.x12" "$work/claims-only/claims.x12"
bytes=$(cat "$work"/day/* | wc -c)
replay_timed() {  # times-file, stderr-file, replay arguments...: appends "seconds rss_kb user sys"
  local times=$1 stderr=$2
  shift 2
  /usr/bin/time -f "%e %M %U %S" -o "$work/one-time" "$build/covgate" replay \
    --ack-time 202611271200 --out /dev/null --decisions /dev/null "$@" 2>"$stderr" || true
  tail -1 "$work/one-time" >>"$times"
}
# The reference: `check` reads on one thread, the replays on all of them, and the vCPUs of a
# shared machine do not always run at one speed (docs/performance.md). So `check` runs pinned
# to each of the first two vCPUs in turn, and the round's reference is the mean of the two.
check_on() {  # [vCPU]: prints "seconds rss_kb"
  local pin=()
  [ -n "${1:-}" ] && pin=(taskset -c "$1")
  "${pin[@]}" /usr/bin/time -f "%e %M" -o "$work/check-time" "$build/covgate" check \
    --ack-time 202611271200 "$work/day/2-claims.x12" >/dev/null 2>&1 || true
  tail -1 "$work/check-time"
}
check_round() {  # appends "rss_kb seconds..." (one per vCPU pinned) to the check-times file
  local first second rss
  if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    read -r first rss < <(check_on 0)
    read -r second _ < <(check_on 1)
    echo "$rss $first $second" >>"$work/check-times"
  else
    read -r first rss < <(check_on)
    echo "$rss $first" >>"$work/check-times"
  fi
}
for _ in $(seq "$runs"); do
  replay_timed "$work/day-times" "$work/summary" "$work/day"
  check_round
  replay_timed "$work/claims-times" /dev/null "$work/claims-only"
done
# The same day with its NDJSON read on the gate's thread (--read-threads 0): what reading
# ahead on the other cores gains, in the same run.
/usr/bin/time -f "%e %M %U %S" -o "$work/one-thread-time" "$build/covgate" replay --read-threads 0 \
  --ack-time 202611271200 --out /dev/null --decisions /dev/null "$work/day" 2>/dev/null || true
# The summary's line, wherever it stands on stderr; a run without it is no figure at all.
facts=$(sed -n 's/^covgate replay: .*), \([0-9]*\) facts/\1/p' "$work/summary" | head -1)
if [ -z "$facts" ]; then
  echo "gate.sh: the replay printed no summary line; its stderr:" >&2
  cat "$work/summary" >&2
  exit 1
fi
# Each round's check (the mean over the vCPUs) against its day: the median of the rounds'
# ratios and every round's; the median check's seconds and its seconds on each vCPU, and the
# highest peak RSS, as the other lines give theirs.
read -r gate_vs_check gate_vs_check_each check_seconds check_rss_kb check_each < <(node -e '
  const fs = require("fs");
  const rows = (f) => fs.readFileSync(f, "utf8").trim().split("\n").map((l) => l.trim().split(/\s+/).map(Number));
  const days = rows(process.argv[1]).map((r) => r[0]);
  const checks = rows(process.argv[2]).map(([rss, ...each]) =>
    ({ rss, each, seconds: each.reduce((a, b) => a + b, 0) / each.length }));
  const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
  const ratios = checks.map((c, i) => c.seconds / days[i]);
  const check = checks.find((c) => c.seconds === median(checks.map((c) => c.seconds)));
  console.log(median(ratios).toFixed(2), ratios.map((r) => r.toFixed(2)).join(","),
    check.seconds.toFixed(3), Math.max(...checks.map((c) => c.rss)), check.each.join(","));
' "$work/day-times" "$work/check-times")
# The median's seconds, the highest peak RSS, every run's seconds and the median run's CPU
# seconds (user + system) of a times file.
summarize() {
  node -e '
    const runs = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n")
      .map((line) => line.trim().split(/\s+/).map(Number));
    const seconds = runs.map((r) => r[0]);
    const median = [...runs].sort((a, b) => a[0] - b[0])[(runs.length - 1) >> 1];
    console.log(median[0], Math.max(...runs.map((r) => r[1])), seconds.join(","),
      (median[2] + median[3]).toFixed(2));
  ' "$1"
}
read -r seconds rss_kb seconds_each cpu_seconds < <(summarize "$work/day-times")
read -r claims_seconds claims_rss_kb claims_each claims_cpu < <(summarize "$work/claims-times")
# time's last line only, as replay_timed keeps: a replay that fails (|| true above) makes time
# write a line saying so before its figures.
tail -1 "$work/one-thread-time" >"$work/one-thread-times"
read -r one_thread_seconds one_thread_rss_kb _ one_thread_cpu < <(summarize "$work/one-thread-times")
node -e "
  const [claims, facts, bytes, s, rss, cs, crss, os, orss, ts, trss] =
    process.argv.slice(1).map(Number);
  const busy = (cpu, wall) => ' cpu_s=' + cpu + ' cores_busy=' + (Number(cpu) / wall).toFixed(2);
  console.log('gate claims=' + claims + ' facts=' + facts + ' bytes=' + bytes + ' seconds=' + s +
    ' claims_per_s=' + Math.round(claims / s) + ' mb_per_s=' + (bytes / 1e6 / s).toFixed(1) +
    ' peak_rss_mb=' + Math.round(rss / 1024) + ' seconds_each=' + process.argv[13] +
    busy(process.argv[15], s));
  console.log('gate-one-thread claims=' + claims + ' seconds=' + ts + ' claims_per_s=' +
    Math.round(claims / ts) + ' peak_rss_mb=' + Math.round(trss / 1024) +
    ' read_ahead_gain=' + (ts / s).toFixed(2) + busy(process.argv[17], ts));
  console.log('check claims=' + claims + ' seconds=' + cs + ' claims_per_s=' +
    Math.round(claims / cs) + ' peak_rss_mb=' + Math.round(crss / 1024) +
    ' gate_vs_check=' + process.argv[18] + ' gate_vs_check_each=' + process.argv[19] +
    ' seconds_per_vcpu=' + process.argv[12]);
  console.log('claims-only claims=' + claims + ' seconds=' + os + ' claims_per_s=' +
    Math.round(claims / os) + ' peak_rss_mb=' + Math.round(orss / 1024) +
    ' bytes_per_fact=' + Math.round((trss - orss) * 1024 / Math.max(facts, 1)) +
    ' read_ahead_extra_mb=' + Math.round((rss - trss) / 1024) + ' seconds_each=' +
    process.argv[14] + busy(process.argv[16], os));
" "$claims" "$facts" "$bytes" "$seconds" "$rss_kb" "$check_seconds" "$check_rss_kb" \
  "$claims_seconds" "$claims_rss_kb" "$one_thread_seconds" "$one_thread_rss_kb" "$check_each" \
  "$seconds_each" "$claims_each" "$cpu_seconds" "$claims_cpu" "$one_thread_cpu" \
  "$gate_vs_check" "$gate_vs_check_each"
head -6 "$work/summary"
