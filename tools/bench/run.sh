#!/usr/bin/env bash
# The X12 benchmark report: tokenizer and 837→model figures on a generated 100 MB file, with
# node-x12 parsing the same bytes in the same run (the ratio is the figure to compare across
# machines), and the peak RSS of `covgate check` over a generated 1 GB stream.
#   tools/bench/run.sh [BUILD_DIR]      (SIZE_MB=100 BIG_MB=1024 to change the sizes)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
size_mb=${SIZE_MB:-100}
big_mb=${BIG_MB:-1024}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
"$build/covgate-gen" --bytes $((size_mb * 1024 * 1024)) --kind mixed --out "$work/bench.x12"
bytes=$(stat -c %s "$work/bench.x12")
echo "input: $work/bench.x12 ($bytes bytes)"
"$build/x12_bench" --input "$work/bench.x12" --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_format=json >"$work/bench.json"
ours=$(node -e '
  // Google Benchmark writes nan for a zero-variance counter; JSON has no nan.
  const text = require("fs").readFileSync(process.argv[1], "utf8").replace(/-?\b(nan|NaN)\b/g, "null");
  const r = JSON.parse(text).benchmarks.filter((b) => b.aggregate_name === "median");
  for (const b of r) {
    const mbs = b.bytes_per_second / 1e6;
    const cps = b.items_per_second ? `, ${(b.items_per_second / 1e3).toFixed(0)}k claims/s` : "";
    console.log(`covgate ${b.run_name}: ${mbs.toFixed(0)} MB/s${cps}`);
  }
  const read = r.find((b) => b.run_name.startsWith("read_837"));
  console.log(`#read_837_mbs ${read.bytes_per_second / 1e6}`);
' "$work/bench.json")
echo "$ours" | grep -v '^#'
npm ci --prefix "$root/tests/corpus" --no-audit --no-fund --loglevel=error >/dev/null 2>&1 || true
peer=$(node -e '
  const { X12Parser } = require(process.argv[1] + "/node_modules/node-x12");
  const fs = require("fs");
  // node-x12 reads one interchange per parse: split the stream on ISA, as its users do.
  const text = fs.readFileSync(process.argv[2], "utf8");
  const parts = text.split(/(?=ISA\*)/).filter((p) => p.startsWith("ISA"));
  const start = process.hrtime.bigint();
  let claims = 0;
  for (const part of parts) {
    const i = new X12Parser(false).parse(part);
    for (const g of i.functionalGroups) for (const t of g.transactions)
      for (const s of t.segments) if (s.tag === "CLM") claims++;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${(Buffer.byteLength(text) / 1e6 / seconds).toFixed(1)} ${claims}`);
' "$root/tests/corpus" "$work/bench.x12")
peer_mbs=${peer% *}
echo "node-x12 (same file, same run): $peer_mbs MB/s, ${peer#* } claims"
read_mbs=$(echo "$ours" | sed -n 's/^#read_837_mbs //p')
node -e "console.log('ratio read_837 / node-x12: ' + ($read_mbs / $peer_mbs).toFixed(0) + 'x')"
if [ "$big_mb" -gt 0 ]; then
  "$build/covgate-gen" --bytes $((big_mb * 1024 * 1024)) --kind mixed --out "$work/big.x12"
  /usr/bin/time -f "%M" -o "$work/rss" "$build/covgate" check --ack-time 202611271200 \
    "$work/big.x12" >/dev/null 2>&1 || true
  echo "covgate check over $(stat -c %s "$work/big.x12") bytes: peak RSS $(( $(cat "$work/rss") / 1024 )) MB"
fi
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
