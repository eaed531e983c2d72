// Every 277 (and 999) covgate writes for the bundled samples must parse in node-x12's strict mode (an
// independent parser) with a right SE01 count. Needs no corpus; COVGATE names the binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { X12Parser } = require('node-x12');

const covgate = process.env.COVGATE;
assert.ok(covgate, 'COVGATE must be set');

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

const samples = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'samples');
const folders = ['scenarios', 'days'].flatMap((kind) =>
  readdirSync(path.join(samples, 'inputs', kind)).sort().map((name) => [kind, name]));
for (const [kind, scenario] of folders) for (const profile of ['277', '277ca']) {
  test(`${profile} of ${kind} ${scenario} parses in node-x12 (strict) with exact counts`, () => {
    const input = path.join(samples, 'inputs', kind, scenario);
    const result = run('replay', '--ack-time', '202611271200', '--profile', profile, input);
    const interchanges = result.stdout.split(/(?=ISA\*)/).filter((p) => p.startsWith('ISA'));
    assert.ok(interchanges.length > 0, 'no 277 written');
    for (const text of interchanges) {
      const parsed = new X12Parser(true).parse(text);
      for (const group of parsed.functionalGroups) {
        for (const set of group.transactions) {
          // 277s, and the 999s of a scenario whose input is refused.
          assert.ok(['277', '999'].includes(set.header.elements[0].value));
          assert.equal(Number(set.trailer.elements[0].value), set.segments.length + 2);
        }
      }
    }
  });
}
