#!/usr/bin/env bash
# The command line on awkward inputs: a missing path, a FIFO, a dangling symlink, an empty
# file, a FHIR file over the size limit, rejected input under `parse`. Each case states what
# must happen; a failure names the case and shows what covgate printed.
set -uo pipefail
: "${COVGATE:?COVGATE must name the covgate binary}"
samples=$(cd "$(dirname "$0")/../../samples/inputs" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
passed=0
check() {  # name, condition (a command)
  if eval "$2"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "cli: FAILED: $1"
    echo "--- stdout"; cat "$work/out"; echo "--- stderr"; cat "$work/err"
  fi
}
run() { timeout 20 "$COVGATE" "$@" >"$work/out" 2>"$work/err"; echo $? >"$work/rc"; }
rc() { cat "$work/rc"; }
good=$samples/x12/01-insulin-pump-837p.x12

# A missing path: the rest is still processed, the run says which, exit 1.
for command in check parse replay; do
  run "$command" "$work/nowhere.x12" "$good"
  check "$command: missing path is reported and the rest processed" \
    '[ "$(rc)" = 1 ] && grep -q "nowhere.x12: no such file or folder" "$work/err" && [ -s "$work/out" ] && ! grep -q "^usage:" "$work/err"'
done

# A FIFO given as a path (it would block forever): refused with a message, quickly.
mkfifo "$work/pipe"
run check "$work/pipe" "$good"
check "a FIFO is refused, not read" '[ "$(rc)" = 1 ] && grep -q "pipe: not a regular file" "$work/err"'

# A dangling symlink in a folder: said, not skipped silently.
mkdir "$work/folder"
cp "$good" "$work/folder/a.x12"
ln -s "$work/gone.x12" "$work/folder/b.x12"
run check "$work/folder"
check "a dangling symlink in a folder is reported" \
  '[ "$(rc)" = 1 ] && grep -q "b.x12: dangling symbolic link" "$work/err" && grep -q "ST\*999" "$work/out"'

# An empty .json: "empty file", not "no ISA segment found".
: >"$work/empty.json"
run check "$work/empty.json"
check "an empty file is called empty" \
  '[ "$(rc)" = 1 ] && grep -q "empty.json: empty file" "$work/err" && ! grep -qi "ISA" "$work/err"'

# A FHIR file over the 64 MB limit: refused by its size, before it is read.
{ printf '{"resourceType":"Patient","text":"'; head -c $((65 * 1024 * 1024)) /dev/zero | tr '\0' 'a'; printf '"}'; } >"$work/huge.json"
run check "$work/huge.json"
check "a FHIR file over the size limit is too-costly" \
  '[ "$(rc)" = 1 ] && grep -q "too-costly" "$work/out"'
run replay --fhir-out "$work/outcomes" "$work/huge.json"
check "replay: a FHIR file over the size limit is too-costly" \
  '[ "$(rc)" = 1 ] && grep -q "too-costly" "$work/err" && grep -q "too-costly" "$work/outcomes"'
rm -f "$work/huge.json"

# parse on rejected input says why on stderr.
run parse "$samples/x12/04-wrong-segment-count.x12"
check "parse on rejected X12 says why" '[ "$(rc)" = 1 ] && [ -s "$work/err" ]'
printf '{"resourceType":"Patient","birthDate":"ZEBRAFINCH"}' >"$work/bad.json"
run parse "$work/bad.json"
check "parse on rejected FHIR says why" '[ "$(rc)" = 1 ] && grep -q "birthDate" "$work/err"'

# replay --store: the state and our control numbers continue from one run to the next.
store="$work/store"
run replay --store "$store" --ack-time 202611271200 "$samples/scenarios/02-csii-release-after-late-lab/1-record.json" "$samples/scenarios/02-csii-release-after-late-lab/2-claim.x12"
first=$(grep -o '^ISA\*[^~]*' "$work/out" | cut -c 91-99)
check "replay --store answers the claim (held)" '[ "$(rc)" = 0 ] && grep -q "STC\*P3" "$work/out"'
run replay --store "$store" --ack-time 202611271200 "$samples/scenarios/02-csii-release-after-late-lab/3-late-labs.json"
second=$(grep -o '^ISA\*[^~]*' "$work/out" | cut -c 91-99)
check "a second replay --store run releases the held claim with the next ISA13" \
  '[ "$(rc)" = 0 ] && grep -q "STC\*A2:20" "$work/out" && [ "$second" = "$(printf %09d $((10#$first + 1)))" ] && grep -q "  release: 1" "$work/err" && ! grep -q "hold:" "$work/err"'
run replay --store "$store" "$samples/x12/01-insulin-pump-837p.x12"
check "regression: facts restored from the store are not counted as read again" \
  'grep -q ", 0 facts" "$work/err"'
run replay "$samples/scenarios/02-csii-release-after-late-lab/3-late-labs.json"
check "without --store, a run starts afresh (nothing to release)" '[ "$(rc)" = 0 ] && [ ! -s "$work/out" ]'

# --mappings DIR without hl7v2.json: the built-in HL7 v2 table is used (it is optional).
mkdir "$work/tables"
cp "$(dirname "$0")/../../mappings/"*.json "$work/tables/"
rm "$work/tables/hl7v2.json"
run check --mappings "$work/tables" "$good"
check "regression: --mappings DIR may leave hl7v2.json out" '[ "$(rc)" = 0 ]'

# Usage errors still print the usage text and exit 2.
run check
check "no PATH is a usage error" '[ "$(rc)" = 2 ] && grep -q "^usage:" "$work/err"'

# audit: a store or files, not both and not neither; its options are checked; a folder that
# holds no store is an error, not an empty report; files and the store they leave agree.
run audit
check "audit without --store or PATH is a usage error" '[ "$(rc)" = 2 ] && grep -q "^usage:" "$work/err"'
run audit --store "$work" "$good"
check "audit with --store and PATH is a usage error" '[ "$(rc)" = 2 ]'
run audit --as-of 2026-02-30 "$good"
check "audit --as-of takes a real date" '[ "$(rc)" = 2 ] && grep -q "as-of" "$work/err"'
run audit --format pdf "$good"
check "audit --format takes csv or html" '[ "$(rc)" = 2 ]'
run audit --store "$work/folder"
check "audit --store on a folder without covgate.db says so" '[ "$(rc)" = 2 ] && grep -q "covgate.db" "$work/err"'
scenario=$samples/scenarios/22-csii-followup-not-physician
run replay --store "$work/audit-store" --out /dev/null "$scenario"
run audit --as-of 2026-04-01 "$scenario"
cp "$work/out" "$work/from-files.csv"
run audit --as-of 2026-04-01 --store "$work/audit-store" --out "$work/from-store.csv"
check "audit over a store equals audit over the files that made it" \
  '[ "$(rc)" = 0 ] && [ ! -s "$work/out" ] && cmp -s "$work/from-files.csv" "$work/from-store.csv" && grep -q "^2AA2AA2AA22,yes,no,yes," "$work/from-store.csv"'
run audit --as-of 2026-04-01 --format html "$scenario"
check "audit --format html is one escaped page" '[ "$(rc)" = 0 ] && grep -q "<!DOCTYPE html>" "$work/out" && ! grep -q "<script" "$work/out"'

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
