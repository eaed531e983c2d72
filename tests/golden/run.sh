#!/usr/bin/env bash
# Golden tests: for every sample input samples/inputs/x12/NAME.x12 the acknowledgment
# (`covgate check`) must equal samples/expected/x12/NAME.ack and the claims (`covgate parse`)
# NAME.claims.jsonl; for every samples/inputs/fhir/NAME.{json,xml,ndjson} the OperationOutcome
# must equal samples/expected/fhir/NAME.outcome and the facts NAME.facts.jsonl.
# A difference prints a unified diff. UPDATE=1 rewrites the expected files instead.
set -uo pipefail
: "${COVGATE:?COVGATE must name the covgate binary}"
samples=${1:?usage: run.sh SAMPLES_DIR}
stamp=202611271200
passed=0
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
compare() {  # produced expected
  if [ "${UPDATE:-0}" = 1 ]; then cp "$1" "$2"; fi
  if diff -u "$2" "$1" >"$work/diff"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "golden mismatch: $2"
    cat "$work/diff"
  fi
}
for input in "$samples"/inputs/x12/*.x12; do
  name=$samples/expected/x12/$(basename "${input%.x12}")
  "$COVGATE" check --ack-time "$stamp" "$input" >"$work/ack" 2>"$work/findings"
  echo "exit $?" >>"$work/ack"
  sed "s|$samples/inputs/||" "$work/findings" >>"$work/ack"
  "$COVGATE" parse "$input" >"$work/claims" 2>/dev/null
  compare "$work/ack" "$name.ack"
  compare "$work/claims" "$name.claims.jsonl"
done
for input in "$samples"/inputs/fhir/*.json "$samples"/inputs/fhir/*.xml \
  "$samples"/inputs/fhir/*.ndjson; do
  [ -e "$input" ] || continue
  name=$samples/expected/fhir/$(basename "${input%.*}")
  "$COVGATE" check "$input" >"$work/outcome" 2>"$work/findings"
  echo "exit $?" >>"$work/outcome"
  sed "s|$samples/inputs/||" "$work/findings" >>"$work/outcome"
  "$COVGATE" parse "$input" >"$work/facts" 2>/dev/null
  compare "$work/outcome" "$name.outcome"
  compare "$work/facts" "$name.facts.jsonl"
done
# Gate scenarios and generated days: each folder of samples/inputs/{scenarios,days} is replayed
# on its own; its 277s, decision lines and summary must equal
# samples/expected/{scenarios,days}/NAME.{277,decisions.jsonl,summary}, and its answers in the
# strict 277CA profile NAME.277ca; each scenario's CSII documentation audit NAME.audit.csv.
for scenario in "$samples"/inputs/scenarios/*/ "$samples"/inputs/days/*/; do
  [ -d "$scenario" ] || continue
  kind=$(basename "$(dirname "$scenario")")
  mkdir -p "$samples/expected/$kind"
  name=$samples/expected/$kind/$(basename "$scenario")
  "$COVGATE" replay --ack-time "$stamp" --out "$work/277" --decisions "$work/decisions" \
    "$scenario" 2>"$work/summary"
  echo "exit $?" >>"$work/summary"
  sed -i "s|$samples/inputs/||g" "$work/decisions" "$work/summary"
  # The time a run took and the scratch folder its answers went to differ from run to run.
  sed -i "/^  elapsed /d; s|$work/||g" "$work/summary"
  compare "$work/277" "$name.277"
  compare "$work/decisions" "$name.decisions.jsonl"
  compare "$work/summary" "$name.summary"
  "$COVGATE" replay --ack-time "$stamp" --profile 277ca --out "$work/277ca" "$scenario" \
    2>/dev/null
  compare "$work/277ca" "$name.277ca"
  # The CSII documentation audit of the scenario, on the samples' date of service: one row per
  # patient with an insulin-pump claim (header only when there is none).
  if [ "$kind" = scenarios ]; then
    "$COVGATE" audit --as-of 2026-04-01 --out "$work/audit" "$scenario" 2>/dev/null
    compare "$work/audit" "$name.audit.csv"
  fi
done
# Every FHIR scenario also exists with its records as HL7 v2 (scenarios-hl7v2): it must decide
# exactly as the FHIR form does (its expected decisions; sources and the ids of the facts
# read aside, since HL7 v2 results are named by their order and filler numbers).
for scenario in "$samples"/inputs/scenarios-hl7v2/*/; do
  [ -d "$scenario" ] || continue
  name=$(basename "$scenario")
  "$COVGATE" replay --ack-time "$stamp" --out /dev/null --decisions "$work/decisions" \
    "$scenario" 2>/dev/null
  strip='s/,"source":"[^"]*"//; s/,"facts":\[[^]]*\]//g'
  sed "$strip" "$work/decisions" >"$work/v2"
  sed "$strip" "$samples/expected/scenarios/$name.decisions.jsonl" >"$work/fhir"
  if diff -u "$work/fhir" "$work/v2" >"$work/diff"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "golden mismatch: scenarios-hl7v2/$name decides unlike its FHIR form"
    cat "$work/diff"
  fi
done
echo "golden: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
