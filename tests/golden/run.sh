#!/usr/bin/env bash
# Golden tests: for every sample input samples/x12/NAME.x12 the acknowledgment
# (`covgate check`) must equal NAME.ack and the claims (`covgate parse`) NAME.claims.jsonl.
# A difference prints a unified diff. UPDATE=1 rewrites the expected files instead.
set -uo pipefail
: "${COVGATE:?COVGATE must name the covgate binary}"
samples=${1:?usage: run.sh SAMPLES_DIR}
stamp=202611271200
passed=0
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for input in "$samples"/x12/*.x12; do
  name=${input%.x12}
  "$COVGATE" check --ack-time "$stamp" "$input" >"$work/ack" 2>"$work/findings"
  echo "exit $?" >>"$work/ack"
  cat "$work/findings" | sed "s|$samples/||" >>"$work/ack"
  "$COVGATE" parse "$input" >"$work/claims" 2>/dev/null
  for kind in ack claims; do
    expected="$name.$kind"
    [ "$kind" = claims ] && expected="$name.claims.jsonl"
    if [ "${UPDATE:-0}" = 1 ]; then
      cp "$work/$kind" "$expected"
    fi
    if diff -u "$expected" "$work/$kind" >"$work/diff"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "golden mismatch: $expected"
      cat "$work/diff"
    fi
  done
done
echo "golden: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
