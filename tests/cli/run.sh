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
  '[ "$(rc)" = 0 ] && grep -q "STC\*A2:20" "$work/out" && [ "$second" = "$(printf %09d $((10#$first + 1)))" ] && grep -q "  release: 1" "$work/err" && grep -q "  hold:documentation: 0" "$work/err"'
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

# Usage errors still print the usage text and exit 2; other errors are one line, no usage.
run check
check "no PATH is a usage error" '[ "$(rc)" = 2 ] && grep -q "^usage:" "$work/err"'
run replay --out "$work/no/such/folder/out.x12" "$good"
check "cannot write FILE is one line, without the usage text" \
  '[ "$(rc)" = 2 ] && grep -q "cannot write .*out.x12" "$work/err" && [ "$(wc -l <"$work/err")" = 1 ]'
if [ -w /dev/full ]; then
  run replay --out /dev/full --decisions "$work/d.ndjson" "$good"
  check "regression: a full disk under --out is an error naming the output, not a silent loss" \
    '[ "$(rc)" = 2 ] && grep -q "cannot write /dev/full" "$work/err"'
  run replay --decisions /dev/full "$good"
  check "regression: a full disk under --decisions is an error too" \
    '[ "$(rc)" = 2 ] && grep -q "cannot write /dev/full" "$work/err"'
  if [ -n "${GEN:-}" ]; then
    # A set's 277 past replay's 256 KiB output block is handed to the system without the
    # block: its failure is reported the same way, and its bytes are the same in a file as on
    # standard output.
    timeout 20 "$GEN" --claims 400 --kind mixed --out "$work/big.x12" >/dev/null 2>&1
    run replay --ack-time 202611271200 --out /dev/full "$work/big.x12"
    check "a full disk under an answer larger than the output block is an error naming it" \
      '[ "$(rc)" = 2 ] && grep -q "cannot write /dev/full" "$work/err"'
    run replay --ack-time 202611271200 --out "$work/big-answer.x12" "$work/big.x12"
    run replay --ack-time 202611271200 "$work/big.x12"
    check "an answer larger than the output block is written whole, in a file as on stdout" \
      '[ "$(rc)" = 0 ] && [ "$(wc -c <"$work/big-answer.x12")" -gt 262144 ] && cmp -s "$work/out" "$work/big-answer.x12"'
  fi
else
  echo "cli: /dev/full is not writable here: the full-disk cases are skipped"
fi
run check --store "$work/s" "$good"
check "an option of another command is a usage error naming the command" \
  '[ "$(rc)" = 2 ] && grep -q "unknown option --store for check" "$work/err" && grep -q "^usage:" "$work/err"'

# --version / -V: the version and the git revision stamped at build.
for flag in --version -V; do
  run $flag
  check "$flag prints the version and revision" \
    '[ "$(rc)" = 0 ] && grep -Eq "^covgate [0-9]+\.[0-9]+\.[0-9]+ \(revision ([0-9a-f]{12}(-dirty)?|unknown)\)$" "$work/out" && [ ! -s "$work/err" ]'
done
# The allocator serving malloc (jemalloc unless configured otherwise or a sanitizer build): the
# build's choice, proven at run time, not only linked.
case "${EXPECT_ALLOCATOR:-}" in
  jemalloc) check "--version names jemalloc as the allocator serving malloc" \
              'grep -Eq "^allocator: jemalloc [0-9]+\.[0-9]+\.[0-9]+" "$work/out"'
            # Huge pages by default (compiled in); MALLOC_CONF still overrides it. jemalloc
            # reports thp as unsupported where the kernel offers none (some containers).
            if [ -r /sys/kernel/mm/transparent_hugepage/enabled ]; then
              (unset MALLOC_CONF; run --version)
              check "--version says jemalloc asks for transparent huge pages" \
                'grep -Eq "^allocator: jemalloc .*, thp:always$" "$work/out"'
              MALLOC_CONF=thp:never run --version
              check "MALLOC_CONF overrides the compiled-in huge pages" \
                'grep -Eq "^allocator: jemalloc .*, thp:never$" "$work/out"'
            else
              echo "SKIP: no transparent_hugepage in /sys: the huge-page option is not checked"
            fi ;;
  system) check "--version names the system malloc" 'grep -qx "allocator: system malloc" "$work/out"' ;;
esac

# Help: each command's own help, three ways; the usage text for covgate --help.
for command in replay serve check parse; do
  for form in "help $command" "$command --help" "$command -h"; do
    run $form
    check "$form prints $command's help on stdout" \
      '[ "$(rc)" = 0 ] && head -1 "$work/out" | grep -q "^usage: covgate $command " && grep -q "options:" "$work/out" && [ ! -s "$work/err" ]'
  done
done
run serve --help
check "serve's help names the defaults and the signals" \
  'grep -q "127.0.0.1:2575" "$work/out" && grep -q "SIGHUP" "$work/out" && grep -q -- "--print-config" "$work/out"'
run replay --help
check "replay's help names --progress" 'grep -q -- "--no-progress" "$work/out"'
run --help
check "covgate --help prints the usage text" '[ "$(rc)" = 0 ] && grep -q "covgate help \[COMMAND\]" "$work/out"'
run help nothing
check "help for a command that does not exist is a usage error" '[ "$(rc)" = 2 ] && grep -q "no command .nothing." "$work/err"'

# '-' reads standard input in check, parse and replay, named stdin.
for command in check parse replay; do
  timeout 20 "$COVGATE" $command - <"$good" >"$work/out" 2>"$work/err"; echo $? >"$work/rc"
  check "$command - reads standard input" '[ "$(rc)" = 0 ] && [ -s "$work/out" ]'
done
timeout 20 "$COVGATE" check - <"$samples/fhir/$(ls "$samples/fhir" | head -1)" >"$work/out" 2>"$work/err"
timeout 20 "$COVGATE" replay --no-progress - <"$good" >"$work/out" 2>"$work/err"; echo $? >"$work/rc"
check "replay - gives its claims the source stdin" \
  '[ "$(rc)" = 0 ] && grep -q "covgate replay: 1 files (0 skipped)" "$work/err"'
run check - -
check "'-' twice is a usage error" '[ "$(rc)" = 2 ] && grep -q "may be given once" "$work/err"'

# The replay summary: outcomes with zeros, reasons per claim, time, throughput, output paths.
run replay --no-progress --out "$work/answers.x12" --decisions "$work/decisions.jsonl" \
  "$samples/scenarios/02-csii-release-after-late-lab"
check "replay's summary is complete and readable" \
  '[ "$(rc)" = 0 ] && grep -q "claims by outcome" "$work/err" && grep -q "    hold:invalid: 0" "$work/err" && grep -q "    release: 1" "$work/err" && grep -q "held claims by reason (a claim counts once per reason): none" "$work/err" && grep -Eq "elapsed [0-9.]+s, [0-9]+ claims/s, [0-9.]+ MB/s" "$work/err" && grep -q "to $work/answers.x12; decisions to $work/decisions.jsonl" "$work/err"'
run replay --no-progress --out /dev/null "$samples/x12/01-insulin-pump-837p.x12" "$samples/x12/01-insulin-pump-837p.x12"
check "reasons are counted per claim, not per finding line" \
  'grep -q "    csii.criterion-a.mdi: 1$" "$work/err"'
# A file that is not X12, FHIR or HL7 v2 in a replayed folder: reported and skipped, no TA1.
mkdir "$work/mixed"
echo "notes from the billing office" >"$work/mixed/notes.txt"
cp "$good" "$work/mixed/z.x12"
run replay --no-progress "$work/mixed"
check "an unrecognized file in a folder is reported and skipped, not answered" \
  '[ "$(rc)" = 1 ] && grep -q "notes.txt: not X12 (ISA), FHIR" "$work/err" && ! grep -q "TA1" "$work/out" && grep -q "2 files (1 skipped)" "$work/err"'
# NDJSON read ahead on other threads (--read-threads) answers and decides as one thread does;
# standard input is read on the gate's thread by default, so a live feed is answered as it comes.
day="$samples/days/mixed-day"
# The envelope (ISA09-10, GS04-05, BHT04-05) carries the minute it was written: two runs that
# straddle a minute differ there and nowhere else.
x12_undated() { sed -E -e 's/^(ISA([*][^*]*){8}[*])[0-9]{6}[*][0-9]{4}/\1D*T/' \
  -e 's/^((GS|BHT)([*][^*]*){3}[*])[0-9]{8}[*][0-9]{4}/\1D*T/' "$1"; }
for threads in 0 3; do
  run replay --no-progress --read-threads $threads --out "$work/day-$threads.x12" \
    --fhir-out "$work/day-$threads.fhir" --decisions "$work/day-$threads.jsonl" "$day"
done
check "replay --read-threads 3 answers and decides as --read-threads 0" \
  '[ "$(rc)" = 0 ] && [ -s "$work/day-3.jsonl" ] && cmp -s <(x12_undated "$work/day-0.x12") <(x12_undated "$work/day-3.x12") && cmp -s "$work/day-0.fhir" "$work/day-3.fhir" && cmp -s "$work/day-0.jsonl" "$work/day-3.jsonl"'
run replay --read-threads 9 "$day"
check "--read-threads past 8 is a usage error" '[ "$(rc)" = 2 ] && grep -q -- "--read-threads takes a number from 0 to 8" "$work/err"'
run replay --read-threads two "$day"
check "--read-threads takes a number" '[ "$(rc)" = 2 ] && grep -q -- "--read-threads takes" "$work/err"'
mkfifo "$work/feed"
timeout 20 "$COVGATE" replay --no-progress --fhir-out "$work/live.fhir" - <"$work/feed" \
  >/dev/null 2>&1 &
live=$!
exec 7>"$work/feed"
head -3 "$day/1-records.ndjson" >&7
for _ in $(seq 100); do [ -s "$work/live.fhir" ] && break; sleep 0.1; done
check "replay - answers NDJSON lines while the feed is still open" '[ -s "$work/live.fhir" ]'
exec 7>&-
wait $live || true
# A feed whose first bytes come alone is still told by its kind (check sniffs the first chunk).
mkfifo "$work/slow"
timeout 20 "$COVGATE" check - <"$work/slow" >"$work/out" 2>"$work/err" &
slow=$!
exec 7>"$work/slow"
printf 'IS' >&7
sleep 0.3
tail -c +3 "$good" >&7
exec 7>&-
wait $slow; echo $? >"$work/rc"
check "check - reads a feed whose first bytes come alone" '[ "$(rc)" = 0 ] && [ -s "$work/out" ]'
# A non-blocking standard input (as some hosts hand one over) is waited on, not taken for its end.
python3 - "$COVGATE" "$good" "$work/out" <<'PY'
import os, subprocess, sys, time
covgate, good, out = sys.argv[1:4]
r, w = os.pipe()
os.set_blocking(r, False)
with open(out, "wb") as o:
    p = subprocess.Popen([covgate, "check", "-"], stdin=r, stdout=o, stderr=subprocess.DEVNULL)
    os.close(r)
    time.sleep(0.3)
    with open(good, "rb") as f:
        os.write(w, f.read())
    os.close(w)
    sys.exit(p.wait(timeout=20))
PY
echo $? >"$work/rc"
check "check - waits on a non-blocking standard input" '[ "$(rc)" = 0 ] && [ -s "$work/out" ]'

# The progress line: forced on it is written (with \r) to stderr; off (and off a terminal) not.
run replay --progress --out /dev/null "$samples/scenarios"
check "--progress writes a progress line" \
  'tr "\r" "\n" <"$work/err" | grep -Eq "^replay: [0-9]+/[0-9]+ files, [0-9.]+/[0-9.]+ MB, [0-9]+ claims"'
run replay --out /dev/null "$samples/scenarios"
check "without a terminal there is no progress line" '! grep -q "files, .* MB, .* claims/s" "$work/err" || ! grep -q $'"'"'\r'"'"' "$work/err"'

# covgate serve without running it: the built-in defaults as a file, errors naming the file
# and the key, and the README's configuration block loading as written.
run serve --print-config
check "serve --print-config prints the built-in defaults" \
  '[ "$(rc)" = 0 ] && grep -q "\"port\": 2575" "$work/out" && grep -q "\"port\": 8080" "$work/out" && grep -q "\"directory\": \"covgate-data\"" "$work/out"'
cp "$work/out" "$work/defaults.json"
run serve --config "$work/defaults.json" --check-config
check "the printed defaults load as written" '[ "$(rc)" = 0 ] && grep -q "configuration OK" "$work/out"'
# The same settings, whatever the spacing (the store path is made absolute when loaded).
same_settings() { diff <(sed "s|\"$work/covgate-data\"|\"covgate-data\"|" "$1" | tr -s " ") \
  <(tr -s " " <"$2") >/dev/null; }
run serve --config "$work/defaults.json" --print-config
check "printing what was loaded gives the same file (store path made absolute)" \
  'same_settings "$work/out" "$work/defaults.json"'
awk '/^Configuration \(every key optional/ {want = 1} want && /^```jsonc/ {inside = 1; next}
     inside && /^```/ {exit} inside {print}' "$(dirname "$0")/../../README.md" >"$work/readme.json"
run serve --config "$work/readme.json" --print-config
check "README's configuration block loads as written and shows the defaults" \
  '[ "$(rc)" = 0 ] && [ -s "$work/readme.json" ] && same_settings "$work/out" "$work/defaults.json"'
echo '{"mllp": {"address": "localhost"}}' >"$work/bad-address.json"
run serve --config "$work/bad-address.json"
check "a bad mllp.address names the file and the key path" \
  '[ "$(rc)" = 2 ] && grep -q "bad-address.json: /mllp/address: .localhost. is not an IPv4 or IPv6 address" "$work/err" && ! grep -q "^usage:" "$work/err"'
echo '{"http": {"port": 99999}}' >"$work/bad-port.json"
run serve --config "$work/bad-port.json"
check "an out-of-range number names the file and the key path" \
  '[ "$(rc)" = 2 ] && grep -q "bad-port.json: /http/port" "$work/err"'
echo '{"mllp": {"enabled": false}, "http": {"enabled": false}}' >"$work/off.json"
run serve --config "$work/off.json"
check "both listeners disabled is an error" '[ "$(rc)" = 2 ] && grep -q "both disabled" "$work/err"'
echo '{"http": {"tokens_file": "missing-tokens"}}' >"$work/no-tokens.json"
run serve --config "$work/no-tokens.json" --check-config
check "a tokens file that cannot be read names the file and the key" \
  '[ "$(rc)" = 2 ] && grep -q "no-tokens.json: /http/tokens_file: cannot read .*missing-tokens" "$work/err"'

run serve --print-nats-mapping
check "serve --print-nats-mapping prints the nodes' mapping for the configured partitions" \
  'grep -qF "\"cg.in.*.*\": \"cg.p.{{partition(64,1)}}.{{wildcard(1)}}.{{wildcard(2)}}\"" "$work/out" && [ "$(rc)" = 0 ]'
echo '{"cluster": {"role": "front", "worker_id": "f1", "urls": ["nats://127.0.0.1:1"]}}' >"$work/front-no-secret.json"
run serve --config "$work/front-no-secret.json" --check-config
check "a front without key_secret_env names the key" \
  '[ "$(rc)" = 2 ] && grep -q "front-no-secret.json: /cluster/key_secret_env: a front needs" "$work/err"'
echo '{"mllp": {"port": 0}, "http": {"port": 0}, "store": {"directory": ""}, "cluster": {"role": "front", "worker_id": "f1", "urls": ["nats://127.0.0.1:1"], "key_secret_env": "COVGATE_CLI_TEST_UNSET_SECRET"}}' >"$work/front-unset.json"
run serve --config "$work/front-unset.json"
check "a front whose secret variable is not set says so before connecting" \
  '[ "$(rc)" != 0 ] && grep -q "COVGATE_CLI_TEST_UNSET_SECRET (cluster.key_secret_env) does not hold" "$work/err"'

# covgate-gen has help too.
if [ -n "${GEN:-}" ]; then
  # An X12 file of several chunks (a megabyte each; read ahead, their buffers handed to the
  # reader and back): answered, decided, parsed and checked as the same bytes through a pipe
  # on standard input (read on one thread, some 64 KiB a read). Sources differ only in the
  # input's name; the summary counts every byte of the file.
  timeout 60 "$GEN" --claims 9000 --kind mixed --claims-per-set 700 --out "$work/big.x12"
  big_mb=$(awk -v b="$(stat -c %s "$work/big.x12")" 'BEGIN {printf "%.1f MB", b / 1e6}')
  run replay --no-progress --read-threads 2 --out "$work/big-file.x12" \
    --decisions "$work/big-file.jsonl" "$work/big.x12"
  cp "$work/err" "$work/big-file.err"
  cat "$work/big.x12" | timeout 60 "$COVGATE" replay --no-progress --out "$work/big-pipe.x12" \
    --decisions "$work/big-pipe.jsonl" - >/dev/null 2>&1; echo $? >"$work/big-pipe.rc"
  check "a file of several chunks is answered as the same bytes through a pipe" \
    '[ "$(rc)" = 0 ] && [ "$(cat "$work/big-pipe.rc")" = 0 ] && [ "$(stat -c %s "$work/big.x12")" -gt 3000000 ] && grep -q "1 files (0 skipped), $big_mb, 9000 claims" "$work/big-file.err" && [ "$(wc -l <"$work/big-file.jsonl")" = 9000 ] && cmp -s <(x12_undated "$work/big-file.x12") <(x12_undated "$work/big-pipe.x12") && cmp -s <(sed "s|$work/big.x12:|stdin:|g" "$work/big-file.jsonl") "$work/big-pipe.jsonl"'
  for command in parse check; do
    run $command "$work/big.x12"
    cp "$work/out" "$work/big-$command-file.out"
    cat "$work/big.x12" | timeout 60 "$COVGATE" $command - >"$work/big-$command-pipe.out" 2>/dev/null
    echo $? >"$work/big-pipe.rc"
    # Undated: check's 999 carries the minute it was written, and the two runs may straddle
    # one (CI failed so once).
    check "$command reads a file of several chunks as the same bytes through a pipe" \
      '[ "$(rc)" = 0 ] && [ "$(cat "$work/big-pipe.rc")" = 0 ] && [ -s "$work/big-$command-file.out" ] && cmp -s <(x12_undated "$work/big-$command-file.out") <(x12_undated "$work/big-$command-pipe.out")'
  done

  timeout 20 "$GEN" --help >"$work/out" 2>"$work/err"; echo $? >"$work/rc"
  check "covgate-gen --help" '[ "$(rc)" = 0 ] && grep -q "^usage: covgate-gen" "$work/out"'
  timeout 20 "$GEN" --nonsense 1 >"$work/out" 2>"$work/err"; echo $? >"$work/rc"
  check "covgate-gen: an unknown option prints the usage" '[ "$(rc)" = 2 ] && grep -q "^usage: covgate-gen" "$work/err"'
fi

# scripts/demo.sh never writes through /dev/stderr (a redirected stderr would be truncated).
check "demo.sh does not write through /dev/stderr" \
  '! grep -v "^ *#" "$(dirname "$0")/../../scripts/demo.sh" | grep -q /dev/stderr'

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

# route: where a cluster front would send a message, patients and identities as tokens only.
cat >"$work/cluster.json" <<'JSON'
{"cluster": {"role": "front", "urls": ["nats://127.0.0.1:4222"], "worker_id": "front-1",
             "key_secret_env": "CG_CLI_SECRET", "partitions": 16}}
JSON
run route "$good"
check "route without --config is a usage error" '[ "$(rc)" = 2 ] && grep -q "^usage:" "$work/err"'
run route --config "$work/cluster.json" "$good"
check "route without the secret names its variable" \
  '[ "$(rc)" = 2 ] && grep -q "CG_CLI_SECRET" "$work/err"'
labs=$samples/scenarios-hl7v2/02-csii-release-after-late-lab/3-late-labs.hl7
mbi='2AA2AA2AA02^^^CMS\&2.16.840.1.113883.4.927\&ISO^MC'
sed "s/$mbi/MRN-77^^^SAMPLE-HOSP^MR/" "$labs" >"$work/labs-by-mrn.hl7"
sed "s/$mbi/MRN-77^^^SAMPLE-HOSP^MR~$mbi/" "$labs" >"$work/labs-linking.hl7"
printf '%s\n' '{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"reference":"Patient/p9"},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}' >"$work/obs-by-reference.json"
export CG_CLI_SECRET=cli-secret
run route --config "$work/cluster.json" --identity Patient/p9 "$work/labs-by-mrn.hl7" \
  "$work/labs-linking.hl7" "$work/obs-by-reference.json" "$good"
token_of() { node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  const l = lines.find((l) => (l.file || "").endsWith(process.argv[2]) || (!l.file && process.argv[2] === "-"));
  process.stdout.write(String(l[process.argv[3]]));' "$work/out" "$1" "$2"; }
check "route: a result by record number alone waits on its identity's token" \
  '[ "$(rc)" = 0 ] && [ "$(token_of labs-by-mrn.hl7 route)" = identity ] && [ "$(token_of labs-by-mrn.hl7 waits_on)" = "cg.wait.$(token_of labs-by-mrn.hl7 identity_token).*" ]'
check "route: the message with both identifiers goes to a partition and links that same token" \
  '[ "$(token_of labs-linking.hl7 route)" = partition ] && [ "$(token_of labs-linking.hl7 links)" = "$(token_of labs-by-mrn.hl7 identity_token)" ] && [ "$(token_of labs-linking.hl7 partition)" -lt 16 ]'
check "route: --identity Patient/p9 is the token an Observation naming only Patient/p9 waits on" \
  '[ "$(token_of obs-by-reference.json identity_token)" = "$(token_of - identity_token)" ]'
check "route: a claim goes to the partition of its patient's token" \
  '[ "$(token_of 01-insulin-pump-837p.x12 route)" = partition ] && grep -q "\"patient_token\":\"[0-9a-f]\{32\}\"" "$work/out"'
check "route prints no patient data" \
  '! grep -q -e MRN-77 -e 2AA2AA2AA02 -e "Patient/p9" -e 1EG4TE5MK73 "$work/out"'
cp "$work/out" "$work/route-first"
CG_CLI_SECRET=another-secret run route --config "$work/cluster.json" --identity Patient/p9
check "route: another secret, another token" \
  '[ "$(rc)" = 0 ] && [ "$(token_of - identity_token)" != "$(node -e "process.stdout.write(JSON.parse(require(\"fs\").readFileSync(process.argv[1], \"utf8\").split(\"\\n\")[0]).identity_token)" "$work/route-first")" ]'
run route --config "$work/cluster.json" "$samples/scenarios/05-claim-member-id-missing/2-claim.x12"
check "route: a message a front refuses is exit 1 with why" \
  '[ "$(rc)" = 1 ] && grep -q "\"route\":\"refused\"" "$work/out" && grep -q "NM108" "$work/out"'
unset CG_CLI_SECRET

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
