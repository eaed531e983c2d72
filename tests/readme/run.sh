#!/usr/bin/env bash
# The README's command examples, run as written: every line of its ```sh blocks, with the
# built covgate first on PATH, in a scratch folder. A `covgate serve` that runs until a signal
# is started in the background, must print its start line, and must stop with exit 0 on
# SIGTERM. Not run here, and why: `bash scripts/test.sh` (it is this test suite) and the
# benchmark lines (minutes each; tools/bench/smoke.sh runs the benchmarks once in ctest).
set -uo pipefail
: "${COVGATE:?COVGATE must name the covgate binary}"
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
ln -s "$(cd "$(dirname "$COVGATE")" && pwd)/$(basename "$COVGATE")" "$work/bin/covgate"
export PATH=$work/bin:$PATH
failed=0
passed=0
skipped=0
# Every command line of the ```sh blocks (continuation-free: the README writes one per line).
mapfile -t lines < <(awk '/^```sh/ {inside = 1; next} /^```/ {inside = 0} inside && !/^ *#/' \
  "$root/README.md")
[ "${#lines[@]}" -ge 4 ] || { echo "readme: found ${#lines[@]} command lines" >&2; exit 1; }
cd "$work"
for line in "${lines[@]}"; do
  command=${line%%#*}
  command=${command%"${command##*[![:space:]]}"}
  case $command in
    "bash scripts/test.sh" | *tools/bench/* | build/fhir_bench)
      echo "readme: not run here: $command"
      skipped=$((skipped + 1))
      continue
      ;;
  esac
  # Scripts are named relative to the checkout, as the README says to run them from there.
  if [[ $command == "bash scripts/"* ]]; then
    (cd "$root" && COVGATE=$COVGATE timeout 300 bash -c "$command") >"$work/out" 2>"$work/err"
    rc=$?
  elif [[ $command == "covgate serve"* && $command != *--print-config* &&
          $command != *--check-config* ]]; then
    bash -c "exec $command" >"$work/out" 2>"$work/err" &
    pid=$!
    for _ in $(seq 100); do
      grep -q "^covgate serve: " "$work/out" && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if grep -q "^covgate serve: mllp 127.0.0.1:2575 http 127.0.0.1:8080 store " "$work/out"; then
      kill -TERM "$pid"
      wait "$pid"
      rc=$?
    else
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      rc=99
    fi
  else
    timeout 60 bash -c "$command" >"$work/out" 2>"$work/err"
    rc=$?
  fi
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "readme: FAILED ($rc): $command"
    echo "--- stdout"; tail -20 "$work/out"; echo "--- stderr"; tail -20 "$work/err"
  fi
done
echo "readme: $passed passed, $failed failed, $skipped not run here"
[ "$failed" -eq 0 ]
