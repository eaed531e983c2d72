#!/usr/bin/env bash
# Regenerates samples/inputs/days/mixed-day: a realistic day of traffic for the golden tests
# and the README demo. 300 claims (837P and 837I, 50 per transaction set) from covgate-gen with
# seed 2026; 60 % of the patients have their clinical record as FHIR NDJSON, a third of those
# arriving after the claims (late labs release held claims).
#   tools/gen/make_mixed_day.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
day=$root/samples/inputs/days/mixed-day
rm -rf "$day"
mkdir -p "$day"
"$build/covgate-gen" --claims 300 --kind mixed --claims-per-set 50 --seed 2026 \
  --out "$day/2-claims.x12" --facts-before "$day/1-records.ndjson" \
  --facts-after "$day/3-late-records.ndjson" --documented 60
