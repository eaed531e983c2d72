#!/usr/bin/env bash
# Claims/s through a covgate cluster with 1, 2 and 3 workers on this machine: one nats-server
# (JetStream, the partition mapping, replicas 1) and W `covgate serve` workers, fresh for each
# W; cluster_bench publishes N one-claim interchanges of distinct patients (covgate-gen
# --claims-per-set 1) and waits until every partition's consumer has had everything
# acknowledged, i.e. applied and committed (synchronous full, the default). One line per W:
#   cluster workers=W claims=N publish_s=P total_s=T claims_per_s=C
# Then, on the same cluster, a front (`covgate serve` in the front role) with serve_load as
# the senders: closed-loop MLLP clients (one new patient's claim per message) and HTTP clients
# (one Observation per POST) for SECONDS at 16 connections each, every message answered by
# the owning worker through the front:
#   front workers=W proto=mllp conns=16 messages=N seconds=S msgs_per_s=R p50_ms=A p99_ms=B …
#   tools/bench/cluster.sh [BUILD_DIR] [CLAIMS] [PARTITIONS] [SECONDS]
# One node with one replica, so that the figure is the workers' and not the Raft replication
# of three nodes sharing the same cores (the cluster test covers three nodes).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
claims=${2:-20000}
partitions=${3:-8}
seconds=${4:-5}
command -v nats-server >/dev/null || { echo "cluster bench: nats-server is not installed" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  { wait; } 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
"$build/covgate-gen" --claims "$claims" --kind mixed --claims-per-set 1 --out "$work/claims.x12"
mapping=$("$build/tests/covgate_cluster_tests" --print-mapping "$partitions")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

for workers in 1 2 3; do
  run="$work/w$workers"
  mkdir -p "$run"
  port=$(free_port)
  cat >"$run/nats.conf" <<CONF
listen: 127.0.0.1:$port
jetstream { store_dir: "$run/js" }
mappings = {
  $mapping
}
CONF
  nats-server -c "$run/nats.conf" >"$run/nats.log" 2>&1 &
  pids+=($!)
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.1; done
  http_ports=()
  for w in $(seq 1 "$workers"); do
    mkdir -p "$run/$w"
    cat >"$run/$w/covgate.json" <<CONF
{"mllp": {"enabled": false}, "http": {"port": 0}, "store": {"directory": "data"},
 "cluster": {"role": "worker", "worker_id": "w$w", "urls": ["nats://127.0.0.1:$port"],
             "partitions": $partitions, "replicas": 1, "lease_ms": 2000, "renew_ms": 500,
             "key_secret_env": "COVGATE_BENCH_SECRET"}}
CONF
    COVGATE_BENCH_SECRET=bench "$build/covgate" serve --config "$run/$w/covgate.json" \
      >"$run/$w/out" 2>"$run/$w/log" &
    pids+=($!)
  done
  # Ready when the workers together have every partition caught up.
  for w in $(seq 1 "$workers"); do
    until grep -q "http 127.0.0.1:" "$run/$w/out" 2>/dev/null; do sleep 0.1; done
    http_ports+=("$(sed -n 's/.*http 127.0.0.1:\([0-9]*\).*/\1/p' "$run/$w/out")")
  done
  for _ in $(seq 1 300); do
    ready=0
    for p in "${http_ports[@]}"; do
      n=$(curl -s "http://127.0.0.1:$p/metrics" | grep -c '^covgate_worker_partition_caught_up{.*} 1$' || true)
      ready=$((ready + n))
    done
    [ "$ready" -ge "$partitions" ] && break
    sleep 0.2
  done
  line=$("$build/cluster_bench" --urls "nats://127.0.0.1:$port" --partitions "$partitions" \
    --secret bench --run "w$workers" "$work/claims.x12")
  echo "${line/cluster /cluster workers=$workers }"
  # The same cluster behind a front.
  mkdir -p "$run/front"
  cat >"$run/front/covgate.json" <<CONF
{"mllp": {"port": 0, "max_connections": 4096}, "http": {"port": 0, "max_connections": 4096},
 "cluster": {"role": "front", "worker_id": "f1", "urls": ["nats://127.0.0.1:$port"],
             "partitions": $partitions, "replicas": 1, "key_secret_env": "COVGATE_BENCH_SECRET"}}
CONF
  COVGATE_BENCH_SECRET=bench "$build/covgate" serve --config "$run/front/covgate.json" \
    >"$run/front/out" 2>"$run/front/log" &
  pids+=($!)
  until grep -q "http 127.0.0.1:" "$run/front/out" 2>/dev/null; do sleep 0.1; done
  front_mllp=$(sed -n 's/.*mllp 127.0.0.1:\([0-9]*\).*/\1/p' "$run/front/out")
  front_http=$(sed -n 's/.*http 127.0.0.1:\([0-9]*\).*/\1/p' "$run/front/out")
  "$build/serve_load" "$front_mllp" "$front_http" "$seconds" 16 \
    "$root/samples/inputs/scenarios/02-csii-release-after-late-lab" |
    sed "s/^serve /front workers=$workers /"
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  { wait; } 2>/dev/null || true
  pids=()
done
