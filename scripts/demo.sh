#!/usr/bin/env bash
# The main job on the bundled samples (samples/inputs: X12 837 claims and FHIR clinical data):
# validate every input (999/TA1 or OperationOutcome to stdout, findings to stderr), then print
# the normalized claims and facts as JSON Lines.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh" >/dev/null || exit 2
echo "== covgate check samples/inputs" >&2
"$root/build/covgate" check "$root/samples/inputs"
echo "== covgate parse samples/inputs" >&2
"$root/build/covgate" parse "$root/samples/inputs"
exit 0
