#!/usr/bin/env bash
# The main job on the bundled samples: replay the gate scenarios (X12 837 claims and FHIR
# clinical data, in file order) and print every 277 hold or release, the decision lines and the
# summary; then validate the reader samples (999/TA1 or OperationOutcome).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# COVGATE names a binary already built (the README test runs this script with it).
covgate=${COVGATE:-}
if [ -z "$covgate" ]; then
  bash "$root/scripts/build.sh" >/dev/null || exit 2
  covgate=$root/build/covgate
fi
# The decision lines go to a file of their own, then to stdout after the 277s: writing them
# through /dev/stderr would truncate a file that stderr is redirected to.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== covgate replay samples/inputs/scenarios" >&2
"$covgate" replay --no-progress --decisions "$work/decisions.jsonl" \
  "$root/samples/inputs/scenarios"
echo "== decisions (one JSON line per outcome change)" >&2
cat "$work/decisions.jsonl"
echo "== covgate replay samples/inputs/days/mixed-day (300 claims, FHIR records; summary only)" >&2
"$covgate" replay --no-progress --out /dev/null "$root/samples/inputs/days/mixed-day"
echo "== covgate check samples/inputs/x12 samples/inputs/fhir" >&2
"$covgate" check "$root/samples/inputs/x12" "$root/samples/inputs/fhir"
exit 0
