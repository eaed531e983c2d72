#!/usr/bin/env bash
# Runs each benchmark once on a small generated file: proves they work, asserts no time.
set -euo pipefail
: "${GEN:?}" "${BENCH:?}" "${FHIR_BENCH:?}" "${HL7V2_BENCH:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$GEN" --claims 2000 --kind mixed --out "$work/small.x12"
"$BENCH" --input "$work/small.x12" --benchmark_min_time=0.01 --benchmark_format=console
bash "$(dirname "$0")/gate.sh" "$(dirname "$GEN")" 500
bash "$(dirname "$0")/skew.sh" "$(dirname "$GEN")" 500
bash "$(dirname "$0")/parse.sh" "$(dirname "$GEN")" 500
"$FHIR_BENCH" --observations 200 --benchmark_min_time=0.01 --benchmark_format=console
"$HL7V2_BENCH" --messages 200 --benchmark_min_time=0.01 --benchmark_format=console
bash "$(dirname "$0")/plugin.sh" "$(dirname "$GEN")" 200
bash "$(dirname "$0")/snapshot.sh" "$(dirname "$GEN")" 500 8
