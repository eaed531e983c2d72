#!/usr/bin/env bash
# The cluster test: three nats-server nodes on loopback (free ports, a temporary directory,
# JetStream with small limits, one route mesh, the partition mapping of covgate's subjects),
# then the doctest cases of covgate_cluster_tests against them. The servers are always killed
# at the end. Exits 77 (ctest: skipped) when nats-server is not installed.
#   TESTS=build/tests/covgate_cluster_tests bash tests/cluster/run.sh
set -euo pipefail
: "${TESTS:?TESTS must name the covgate_cluster_tests binary}"
partitions=${PARTITIONS:-8}

if ! command -v nats-server >/dev/null 2>&1; then
  echo "SKIP: nats-server is not installed (scripts/setup.sh installs Debian's nats-server)"
  exit 77
fi
for tool in curl python3 openssl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "cluster test: $tool is required" >&2; exit 1; }
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/covgate-cluster.XXXXXX")
watchdog=""
cleanup() {
  local status=$?
  [ -z "$watchdog" ] || kill "$watchdog" 2>/dev/null || true
  for pidfile in "$dir"/n*.pid "$dir"/*.wpid; do
    [ -e "$pidfile" ] || continue
    kill -9 "$(cat "$pidfile")" 2>/dev/null || true
  done
  { wait; } 2>/dev/null || true
  if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
    for log in "$dir"/n*.log; do
      echo "---- last lines of $(basename "$log")" >&2
      tail -n 20 "$log" >&2 || true
    done
  fi
  rm -rf "$dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# If this script is killed outright (SIGKILL: no trap runs), the servers must not outlive it.
(
  while kill -0 $$ 2>/dev/null; do sleep 1; done
  for pidfile in "$dir"/n*.pid "$dir"/*.wpid; do kill -9 "$(cat "$pidfile")" 2>/dev/null || true; done
  rm -rf "$dir"
) &
watchdog=$!

# Eleven free loopback ports at once (client, cluster and monitor port of each node, then the
# client and monitor port of the TLS node): bound together so that no two are the same,
# released just before the servers take them.
read -r -a ports < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(11)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
)
mapping=$("$TESTS" --print-mapping "$partitions")
routes=""
for i in 0 1 2; do
  routes+="\"nats://127.0.0.1:${ports[$((3 + i))]}\", "
done

urls=()
for i in 0 1 2; do
  name="n$((i + 1))"
  client=${ports[$i]} route=${ports[$((3 + i))]} http=${ports[$((6 + i))]}
  mkdir -p "$dir/$name"
  cat >"$dir/$name.conf" <<CONF
server_name: $name
listen: 127.0.0.1:$client
http: 127.0.0.1:$http
jetstream {
  store_dir: "$dir/$name"
  max_memory_store: 64MB
  max_file_store: 256MB
}
cluster {
  name: covgate-test
  listen: 127.0.0.1:$route
  routes: [ ${routes%, } ]
}
mappings = {
  $mapping
}
CONF
  nats-server -c "$dir/$name.conf" >"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
  urls+=("nats://127.0.0.1:$client")
done

# A fourth, lone node for the connection options: TLS with client certificates (a CA made
# here) and a user with a password. No JetStream, no routes.
tls=$dir/tls
mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=covgate test CA" \
  -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
for who in server client; do
  openssl req -newkey rsa:2048 -nodes -subj "/CN=covgate test $who" \
    -keyout "$tls/$who.key" -out "$tls/$who.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >"$tls/$who.ext"
  openssl x509 -req -in "$tls/$who.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 1 -extfile "$tls/$who.ext" -out "$tls/$who.pem" 2>/dev/null
done
cat >"$dir/n4.conf" <<CONF
server_name: n4
listen: 127.0.0.1:${ports[9]}
http: 127.0.0.1:${ports[10]}
tls {
  cert_file: "$tls/server.pem"
  key_file: "$tls/server.key"
  ca_file: "$tls/ca.pem"
  verify: true
}
authorization {
  user: covgate
  password: "test-password"
}
CONF
nats-server -c "$dir/n4.conf" >"$dir/n4.log" 2>&1 &
echo $! >"$dir/n4.pid"

# Ready when every node's JetStream is enabled (the meta leader may still be electing; the
# tests retry through elections).
deadline=$((SECONDS + 30))
for i in 0 1 2; do
  until curl -fsS "http://127.0.0.1:${ports[$((6 + i))]}/healthz?js-enabled-only=true" \
      >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "cluster test: node n$((i + 1)) did not become healthy within 30 s" >&2
      exit 1
    fi
    if ! kill -0 "$(cat "$dir/n$((i + 1)).pid")" 2>/dev/null; then
      echo "cluster test: node n$((i + 1)) exited" >&2
      exit 1
    fi
    sleep 0.1
  done
done
# Then until the meta leader counts both other nodes as current: before that it places no
# replica on them ("no suitable peers for placement", seen once in CI on a loaded machine).
meta_ready() {
  local i
  for i in 0 1 2; do
    curl -fsS "http://127.0.0.1:${ports[$((6 + i))]}/jsz" 2>/dev/null | python3 -c '
import json, sys
meta = json.load(sys.stdin).get("meta_cluster", {})
replicas = meta.get("replicas") or []
sys.exit(0 if len(replicas) == 2 and all(r.get("current") for r in replicas) else 1)
' && return 0
  done
  return 1
}
until meta_ready; do
  if [ $SECONDS -ge $deadline ]; then
    echo "cluster test: the JetStream meta group did not count three current peers within 30 s" >&2
    exit 1
  fi
  sleep 0.2
done
until curl -fsS "http://127.0.0.1:${ports[10]}/healthz" >/dev/null 2>&1; do
  if [ $SECONDS -ge $deadline ] || ! kill -0 "$(cat "$dir/n4.pid")" 2>/dev/null; then
    echo "cluster test: the TLS node n4 did not start" >&2
    exit 1
  fi
  sleep 0.1
done
echo "cluster test: 3 nats-server nodes up in $dir ($partitions partitions), and a TLS node"

export COVGATE_NATS_URLS
COVGATE_NATS_URLS=$(IFS=,; echo "${urls[*]}")
export COVGATE_NATS_DIR=$dir COVGATE_NATS_PARTITIONS=$partitions
export COVGATE_NATS_TLS_URL=tls://127.0.0.1:${ports[9]} COVGATE_NATS_TLS_DIR=$tls
# The failover suite kills a node, so it runs on its own; the killed node is started again
# for the processes suite, which kills a worker and a node of its own.
"$TESTS" --test-suite-exclude=cluster.failover,cluster.processes,cluster.trimmed
"$TESTS" --test-suite=cluster.failover
for i in 0 1 2; do
  name="n$((i + 1))"
  kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null && continue
  nats-server -c "$dir/$name.conf" >>"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
done
deadline=$((SECONDS + 30))
for i in 0 1 2; do
  until curl -fsS "http://127.0.0.1:${ports[$((6 + i))]}/healthz?js-enabled-only=true" \
      >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { echo "cluster test: n$((i + 1)) did not come back" >&2; exit 1; }
    sleep 0.1
  done
done
until meta_ready; do
  [ $SECONDS -lt $deadline ] || { echo "cluster test: the meta group did not recover" >&2; exit 1; }
  sleep 0.2
done
# And until every node says its streams and consumers are current (/healthz without
# js-enabled-only): the processes suite kills a node, and a restarted node still catching up
# would leave the groups it belongs to without a quorum for as long as it lags.
deadline=$((SECONDS + 60))
for i in 0 1 2; do
  until curl -fsS "http://127.0.0.1:${ports[$((6 + i))]}/healthz" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { echo "cluster test: n$((i + 1)) is not current" >&2; exit 1; }
    sleep 0.2
  done
done

# Three covgate serve processes in the worker role and one in the front role (skipped when
# COVGATE does not name the binary): the processes suite sends a day through the front, kills
# a worker with -9 and then a node.
if [ -z "${COVGATE:-}" ]; then
  echo "cluster test: COVGATE is not set; the worker processes suite is skipped"
  # Last: the trimmed suite purges CG_IN, which every other suite reads from its start.
  "$TESTS" --test-suite=cluster.trimmed
  exit $?
fi
server_urls=$(printf '"%s",' "${urls[@]}" | sed 's/,$//')
start_serve() {  # name, role, extra cluster keys, extra top-level keys
  mkdir -p "$dir/$1"
  cat >"$dir/$1/covgate.json" <<CONF
{${4:-}
  "mllp": {"enabled": $([ "$2" = front ] && echo true || echo false), "port": 0},
  "http": {"port": 0},
  "store": {"directory": "data", "synchronous": "normal"},
  "cluster": {"role": "$2", "worker_id": "$1-$$", "urls": [$server_urls],
              "partitions": $partitions, "lease_ms": 2000, "renew_ms": 500, "batch": 16$3}
}
CONF
  COVGATE_TEST_KEY_SECRET=cluster-test-secret \
    "$COVGATE" serve --config "$dir/$1/covgate.json" >"$dir/$1/out" 2>"$dir/$1/log" &
  echo $! >"$dir/$1.wpid"
}
wait_serve() {  # name: waits for its "covgate serve:" line
  until grep -q "http 127.0.0.1:" "$dir/$1/out" 2>/dev/null; do
    [ $SECONDS -lt $((deadline + 30)) ] || { echo "cluster test: $1 did not start" >&2; cat "$dir/$1/log" >&2; exit 1; }
    sleep 0.1
  done
}
members="w1 w2 w3 f1"
mkdir -p "$dir/mapping-check"
printf '{"cluster": {"partitions": %s}}\n' "$partitions" >"$dir/mapping-check/covgate.json"
if ! "$COVGATE" serve --config "$dir/mapping-check/covgate.json" --print-nats-mapping |
    grep -qF "$mapping"; then
  echo "cluster test: covgate serve --print-nats-mapping does not print the nodes' mapping" >&2
  exit 1
fi
# Snapshots every second: the worker killed mid-day has written its partitions' by then, and
# a survivor whose store never held one of them starts from it (docs/cluster.md §5j).
for w in w1 w2 w3; do
  start_serve "$w" worker ', "key_secret_env": "COVGATE_TEST_KEY_SECRET", "snapshot_every_ms": 1000'
done
# The front delivers the workers' releases from CG_OUT to a directory.
start_serve f1 front ', "key_secret_env": "COVGATE_TEST_KEY_SECRET", "answer_timeout_ms": 8000' \
  '"outbox": {"destinations": [{"kind": "directory", "path": "releases"}]},'
workers=""
for w in w1 w2 w3; do
  wait_serve "$w"
  port=$(sed -n 's/.*http 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/$w/out")
  workers+="$w-$$:$(cat "$dir/$w.wpid"):$port,"
done
wait_serve f1
export COVGATE_WORKERS=${workers%,}
COVGATE_FRONT="$(sed -n 's/.*mllp 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/f1/out"):$(sed -n 's/.*http 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/f1/out")"
export COVGATE_FRONT
status=0
"$TESTS" --test-suite=cluster.processes || status=$?
for w in $members; do
  kill -TERM "$(cat "$dir/$w.wpid")" 2>/dev/null || true
done
# The problems each worker logged (lease rounds and partitions the cluster did not answer),
# counted and the first few shown: a node kill costs a few, a run of them is a finding.
for w in w1 w2 w3; do
  problems=$(grep -c '"msg":"worker problem"' "$dir/$w/log" || true)
  echo "cluster test: $w logged $problems worker problem line(s)"
  grep '"msg":"worker problem"' "$dir/$w/log" | head -n 5 | cut -c1-300 || true
done
# Which survivors started a partition from a snapshot (a survivor whose store held the
# partition before catches it up from the stream instead): reported, as it depends on how the
# partitions moved at start-up.
for w in w1 w2 w3; do
  echo "cluster test: $w loaded $(grep -c '"msg":"partition snapshot loaded"' "$dir/$w/log" || true) snapshot(s)"
done
# Each worker told the operators which partitions it took and when it had caught them up.
for w in w1 w2 w3; do
  for event in "partition acquired" "partition caught up"; do
    if ! grep -q "\"msg\":\"$event\"" "$dir/$w/log"; then
      echo "cluster test: $w never logged \"$event\"" >&2
      status=1
    fi
  done
done
# Last: the trimmed suite purges CG_IN, which every other suite reads from its start. The
# processes are gone first (they would hold the leases and consume its messages).
for w in $members; do
  pid=$(cat "$dir/$w.wpid")
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done
"$TESTS" --test-suite=cluster.trimmed || status=$?
if [ $status -ne 0 ]; then
  # Every lease, catch-up and NATS problem of each process (few lines), then its last lines;
  # the per-message lines of the listeners would push the start of a run out of a tail.
  for w in $members; do
    echo "---- $w: cluster events" >&2
    grep "\"component\":\"cluster\"" "$dir/$w/log" | head -n 200 >&2 || true
    echo "---- $w: last lines" >&2
    grep -v "\"component\":\"http\"" "$dir/$w/log" | tail -n 20 >&2 || true
  done
fi
exit $status
