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

// The readings beyond the 837 guides that the public files need (README: what the X12 reader
// does). Without them the reader follows the guides and rejects these files:
//   hl-chain         imsweb numbers HL01 on from the previous set and points HL02 past it
//   hi-split         imsweb writes HI*BK*8901 (qualifier and code in elements of their own)
//   clm05            linuxforhealth's ambulance example leaves CLM05-2 empty
//   rd8-single-date  stupidedi's 837I statement period is RD8*19960911 (one date)
//   isa11-letter     imsweb keeps the 4010 'U' in ISA11 under 00501
// (segment-repeats exists for real traffic; no public file needs it.) Control counts are
// checked strictly by `check` below and read past by `parse` with --envelope-counts warn.
const readings = ['--lenient', 'hl-chain,hi-split,clm05,rd8-single-date,isa11-letter'];

// Files a source calls valid that break the guides in a way the gate must not read past,
// even with the readings above. Each is rejected with every finding named here.
const composite = /IK3\*SV1\*\d+\*2400\*8~\n(CTX[^\n]*\n)?IK4\*1:1\*235\*7~/;
const ik4 = (segment, loop, element) =>
  new RegExp(`IK3\\*${segment}\\*\\d+\\*${loop}\\*8~\\n(CTX[^\\n]*\\n)?(IK4[^\\n]*\\n)*IK4\\*${element}~`);
const contradicted = {
  // ISA16 declares ':' but every composite uses '>': SV1*HC>99213 has no readable procedure
  // code, and a claim whose codes cannot be read must not be released unchecked.
  'x12/linuxforhealth/837_005010X222A2/demo.cob.2ndary.example4.837': [composite],
  'x12/linuxforhealth/837_005010X222A2/demo.example11.837': [composite],
  'x12/linuxforhealth/837_005010X222A2/demo.example12.837': [composite],
  'x12/linuxforhealth/837_005010X222A2/demo.example6.837': [composite],
  'x12/linuxforhealth/837_005010X222A2/demo.example9.837': [composite],
  // The same in 837I: CLM05 (13>A>1) and HI (ABK>...) cannot be read.
  'x12/linuxforhealth/837_005010X223A3/out-of-network-repriced-claim.837i': [
    ik4('CLM', '2300', '5:2\\*1332\\*1'), ik4('SV2', '2400', '2:1\\*235\\*7')],
  'x12/linuxforhealth/837_005010X223A3/ppo-repriced-claim.837i': [
    ik4('CLM', '2300', '5:2\\*1332\\*1'), ik4('HI', '2300', '1:1\\*1270\\*7')],
  // A COB claim (2320) without its required other-payer loop 2330B.
  'x12/linuxforhealth/837_005010X222A2/demo.cob.example3.A.837': [/IK3\*NM1\*\d+\*2330\*3~/],
  // AMT*F2 in 2320: the guide allows D, A8 and EAF there.
  'x12/linuxforhealth/837_005010X222A2/demo.cob.example4.837': [ik4('AMT', '2320', '1\\*522\\*7')],
  // 837I: CLM06 is Not Used (I10); the statement period DTP*434 is RD8 only.
  'x12/linuxforhealth/837_005010X223A3/institutional-claim.837i': [
    ik4('CLM', '2300', '6\\*1073\\*I10'), ik4('DTP', '2300', '2\\*1250\\*7')],
  'x12/linuxforhealth/837_005010X223A3/two-claims-single-provider.837i': [
    ik4('CLM', '2300', '6\\*1073\\*I10')],
  'x12/imsweb/837_5010/x223-test.txt': [
    ik4('CLM', '2300', '6\\*1073\\*I10'), ik4('CLM', '2300', '10\\*1351\\*I10'),
    ik4('DTP', '2300', '2\\*1250\\*7'), ik4('NM1', '2330', '3\\*1035\\*I10')],
  // 4010 leftovers: NM108 'X' in 2310B (5010: XX), OI04 'A' (5010: P), 2330C without REF.
  'x12/imsweb/837_5010/x12_complex.txt': [
    ik4('NM1', '2310', '8\\*66\\*7'), ik4('OI', '2320', '4\\*1351\\*7'),
    /IK3\*REF\*\d+\*2330\*3~/],
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
    test(`${name}: contradicts the guide, rejected with the exact findings`, () => {
      const result = run('check', '--envelope-counts', 'warn', ...readings, file);
      assert.equal(result.status, 1);
      for (const finding of contradicted[row.path]) {
        assert.match(normalized(result.stdout), finding);
      }
      assert.equal(nodeX12Claims(file) > 0, true);
    });
  } else if (isClaim && row.expected === 'valid') {
    test(`${name}: accepted with node-x12's claim count; control-count errors named`, () => {
      const lenient = run('parse', '--envelope-counts', 'warn', ...readings, file);
      const ours = lenient.stdout.split('\n').filter(Boolean).length;
      const theirs = nodeX12Claims(file);
      const strict = run('check', '--ack-time', '202611271200', ...readings, file);
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
        const result = run('check', '--envelope-counts', mode, ...readings, file);
        assert.equal(result.status, 1, `${mode}: accepted`);
        assert.match(normalized(result.stdout), /IK5\*R|TA1\*[^~]*\*R\*/);
        // Beyond counts, a finding names a segment or the interchange header.
        assert.match(result.stderr, /segment \S+ at position \d+|TA105/);
        assert.equal(run('parse', '--envelope-counts', mode, ...readings, file).stdout, '');
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
