#!/usr/bin/env bash
# Load benchmark of `covgate serve` on this machine: starts a server (journal on, store in a
# temporary directory), runs serve_load (tools/bench/serve_load.cpp: MLLP claims and HTTP
# Observations at 1, 16 and 64 connections) with the store's synchronous full (the default)
# and normal, wrk on /healthz as the HTTP floor, the heavy-patient run (heavy_patient.mjs), and
# each server's peak RSS.
#   tools/bench/serve.sh [BUILD_DIR] [SECONDS_PER_RUN] [CONNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
seconds=${2:-5}
conns=${3:-1,16,64}
if ! command -v wrk >/dev/null 2>&1; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get install -y -qq wrk >/dev/null 2>&1 ||
    { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq wrk >/dev/null; }
fi
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

start_server() {  # synchronous mode; sets server, mllp, http
  rm -rf "$work/data" "$work/start"
  cat >"$work/covgate.json" <<JSON
{ "mllp": {"port": 0, "max_connections": 4096}, "http": {"port": 0, "max_connections": 4096},
  "store": {"directory": "$work/data", "synchronous": "$1"} }
JSON
  "$build/covgate" serve --config "$work/covgate.json" >"$work/start" 2>"$work/stderr" &
  server=$!
  for _ in $(seq 100); do [ -s "$work/start" ] && break; sleep 0.05; done
  mllp=$(sed -n 's/.*mllp [^ ]*:\([0-9]*\).*/\1/p' "$work/start")
  http=$(sed -n 's/.*http [^ ]*:\([0-9]*\).*/\1/p' "$work/start")
}

stop_server() {
  echo "server synchronous=$1 peak_rss_mb=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$server/status)" \
    "store_mb=$(du -sm "$work/data" | cut -f1)"
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
}

# synchronous=full is the default (an answer survives a power cut); normal is the documented
# faster choice (it survives a killed process). Both run, full first.
for sync in full normal; do
  start_server "$sync"
  echo "-- synchronous=$sync"
  "$build/serve_load" "$mllp" "$http" "$seconds" "$conns" \
    "$root/samples/inputs/scenarios/02-csii-release-after-late-lab"
  if [ "$sync" = full ]; then
    # The wrk floor on the same server, and a member with thousands of claims whose one
    # Observation re-evaluates them while another connection reads.
    wrk -t2 -c16 -d"${seconds}s" --latency "http://127.0.0.1:$http/healthz" |
      awk '/Requests\/sec/ {rps=$2} /50%/ {p50=$2} /99%/ {p99=$2}
           END {print "wrk healthz conns=16 requests_per_s=" rps " p50=" p50 " p99=" p99}'
    node "$root/tools/bench/heavy_patient.mjs" "$build/covgate-gen" "$http" "${HEAVY_CLAIMS:-5000}"
  fi
  stop_server "$sync"
done
