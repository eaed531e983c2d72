// Runs `covgate check` and `covgate parse` over every X12 file of the public corpus and
// compares the claims covgate accepts with what node-x12 (an independent parser) finds.
// COVGATE names the binary; CORPUS the corpus folder (run.sh skips this test without it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { X12Parser } = require('node-x12');

const covgate = process.env.COVGATE;
const corpus = process.env.CORPUS;
assert.ok(covgate && corpus, 'COVGATE and CORPUS must be set');

function csv(file) {
  const [header, ...rows] = readFileSync(path.join(corpus, file), 'utf8').trim().split('\n');
  const names = header.split(',');
  return rows.map((row) => {
    const cells = row.match(/("([^"]|"")*"|[^,]*)(,|$)/g).map((c) => c.replace(/,$/, ''));
    return Object.fromEntries(names.map((n, i) => [n, (cells[i] ?? '').replace(/^"|"$/g, '')]));
  });
}

function run(...args) {
  const result = spawnSync(covgate, args, {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(result.signal, null, `covgate ${args.join(' ')} was killed by ${result.signal}`);
  assert.ok(result.status === 0 || result.status === 1, `exit ${result.status}: ${result.stderr}`);
  return result;
}

function nodeX12Claims(file) {
  const parsed = new X12Parser(false).parse(readFileSync(file, 'utf8'));
  const interchanges = parsed.interchanges ?? [parsed];
  let claims = 0;
  for (const i of interchanges)
    for (const g of i.functionalGroups)
      for (const t of g.transactions) for (const s of t.segments) if (s.tag === 'CLM') claims += 1;
  return claims;
}

// Files a source calls valid that break the standard in a way the gate must not read past.
// Each is rejected with exactly the finding named here.
const contradicted = {
  // ISA16 declares ':' but every composite uses '>': SV1*HC>99213 has no readable procedure
  // code, and a claim whose codes cannot be read must not be released unchecked.
  'x12/linuxforhealth/837_005010X222A2/demo.cob.2ndary.example4.837': /IK3\*SV1\*\d+\*2400\*8~\n(CTX[^\n]*\n)?IK4\*1:1\*235\*7~/,
  'x12/linuxforhealth/837_005010X222A2/demo.example11.837': /IK3\*SV1\*\d+\*2400\*8~\n(CTX[^\n]*\n)?IK4\*1:1\*235\*7~/,
  'x12/linuxforhealth/837_005010X222A2/demo.example12.837': /IK3\*SV1\*\d+\*2400\*8~\n(CTX[^\n]*\n)?IK4\*1:1\*235\*7~/,
  'x12/linuxforhealth/837_005010X222A2/demo.example6.837': /IK3\*SV1\*\d+\*2400\*8~\n(CTX[^\n]*\n)?IK4\*1:1\*235\*7~/,
  'x12/linuxforhealth/837_005010X222A2/demo.example9.837': /IK3\*SV1\*\d+\*2400\*8~\n(CTX[^\n]*\n)?IK4\*1:1\*235\*7~/,
};

// Rewrites an acknowledgment into '*' and '~' so patterns need not know the sender's delimiters.
function normalized(ack) {
  if (!ack.startsWith('ISA') || ack.length < 106) return ack;
  const element = ack[3];
  const terminator = ack[105];
  return ack.split(element).join('*').split(terminator).join('~');
}

const index = csv('x12-index.csv');
const notes = csv('x12-envelope-notes.csv');
const notesFor = (p) => notes.filter((n) => n.path === p).map((n) => n.finding).join(' | ');

for (const row of index) {
  const file = path.join(corpus, row.path);
  const name = `${row.path} (${row.transaction}, ${row.expected})`;
  const isClaim = row.transaction === '837P' || row.transaction === '837I';

  if (isClaim && contradicted[row.path]) {
    test(`${name}: contradicts the standard, rejected with the exact finding`, () => {
      const result = run('check', '--envelope-counts', 'warn', file);
      assert.equal(result.status, 1);
      assert.match(normalized(result.stdout), contradicted[row.path]);
      assert.equal(nodeX12Claims(file) > 0, true);
    });
  } else if (isClaim && row.expected === 'valid') {
    test(`${name}: accepted with node-x12's claim count; control-count errors named`, () => {
      const lenient = run('parse', '--envelope-counts', 'warn', file);
      const ours = lenient.stdout.split('\n').filter(Boolean).length;
      const theirs = nodeX12Claims(file);
      const strict = run('check', '--ack-time', '202611271200', file);
      strict.stdout = normalized(strict.stdout);
      const found = notesFor(row.path);
      const duplicates = (strict.stdout.match(/TA1\*\d{9}\*\d{6}\*\d{4}\*R\*025~/g) ?? []).length;
      if (duplicates > 0) {
        // Repeated copies of one interchange (same ISA13, same sender): answered TA1 025, read once.
        const copies = duplicates + 1;
        assert.equal(ours * copies, theirs, `claims: covgate ${ours} × ${copies} vs node-x12 ${theirs}`);
      } else {
        assert.equal(ours, theirs, `claims: covgate ${ours} vs node-x12 ${theirs}`);
      }
      if (/SE01 segment count wrong/.test(found)) assert.match(strict.stdout, /IK5\*R\*4/);
      if (/GE01=/.test(found)) assert.match(strict.stdout, /AK9\*R\*[^~]*\*5/);
      if (/IEA01=/.test(found)) assert.match(strict.stdout, /TA1\*[^~]*\*R\*021~/);
      if (/segment count wrong|GE01=|IEA01=/.test(found) || duplicates > 0) {
        assert.equal(strict.status, 1);
      } else {
        assert.equal(strict.status, 0, strict.stderr);
      }
    });
  } else if (isClaim && row.expected === 'invalid') {
    test(`${name}: rejected with a 999/TA1 that names the problem`, () => {
      for (const mode of ['strict', 'warn']) {
        const result = run('check', '--envelope-counts', mode, file);
        assert.equal(result.status, 1, `${mode}: accepted`);
        assert.match(normalized(result.stdout), /IK5\*R|TA1\*[^~]*\*R\*/);
        // Beyond counts, a finding names a segment or the interchange header.
        assert.match(result.stderr, /segment \S+ at position \d+|TA105/);
        assert.equal(run('parse', '--envelope-counts', mode, file).stdout, '');
      }
    });
  } else {
    test(`${name}: not an 837, answered without a crash`, () => {
      const result = run('check', file);
      assert.equal(result.status, 1);
      assert.ok(result.stdout.length > 0 || result.stderr.length > 0);
    });
  }
}
