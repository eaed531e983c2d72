// One engine core, every door: each gate scenario of samples/ is replayed from its files and
// sent, file by file, to a fresh covgate serve (once over MLLP, once over HTTP). The decisions
// must be the same, and so must the 277s apart from control numbers, dates and how answers
// are grouped into interchanges (serve's outbox sends each later release on its own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { covgate, frame, startServer, mllpExchange, curl, url, waitFor } from './support.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const scenarios = path.join(here, '..', '..', 'samples', 'inputs', 'scenarios');

// The claim-level status of each answer: TRN*2 and what follows it up to the next loop,
// with our control numbers, dates and times (envelope and BHT) left out.
function claimBlocks(x12) {
  const blocks = [];
  let current = null;
  for (const raw of x12.split('~')) {
    const segment = raw.trim();
    if (!segment) continue;
    const id = segment.split('*')[0];
    if (['ISA', 'GS', 'ST', 'BHT', 'SE', 'GE', 'IEA'].includes(id)) continue;
    if (id === 'HL' || id === 'NM1') {
      current = null;
      continue;
    }
    if (segment.startsWith('TRN*2*')) {
      current = [segment];
      blocks.push(current);
    } else if (current) {
      current.push(segment);
    }
  }
  return blocks.map((b) => b.join('~')).sort();
}

// Decision lines without their source (a file offset in replay, a journal id in serve).
const withoutSource = (d) => {
  const { source, ...rest } = d;
  return JSON.stringify(rest);
};

function replayScenario(dir) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'covgate-eq-'));
  const r = spawnSync(covgate, ['replay', '--out', path.join(work, 'out.x12'), '--decisions',
    path.join(work, 'decisions.jsonl'), dir], { encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  const decisions = readFileSync(path.join(work, 'decisions.jsonl'), 'utf8').split('\n')
    .filter(Boolean).map((l) => JSON.parse(l));
  return { blocks: claimBlocks(readFileSync(path.join(work, 'out.x12'), 'utf8')), decisions };
}

async function serveScenario(dir, door) {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-eq-')));
  let answers = '';
  for (const name of readdirSync(dir).sort()) {
    const text = readFileSync(path.join(dir, name), 'utf8');
    if (door === 'mllp') {
      const [answer] = await mllpExchange(s.mllp, [frame(text)], 1);
      if (name.endsWith('.x12')) answers += answer;
    } else if (name.endsWith('.x12')) {
      answers += curl(s, ['-X', 'POST', '-H', 'Content-Type: application/edi-x12',
        '--data-binary', '@' + path.join(dir, name), url(s, '/x12')]).body;
    } else if (name.endsWith('.json')) {
      const resource = JSON.parse(text);
      const route = resource.resourceType !== 'Bundle' ? `/fhir/${resource.resourceType}`
        : ['batch', 'transaction'].includes(resource.type) ? '/fhir' : '/fhir/Bundle';
      const r = curl(s, ['-X', 'POST', '-H', 'Content-Type: application/fhir+json',
        '--data-binary', '@' + path.join(dir, name), url(s, route)]);
      assert.ok(r.status < 500, `${name}: ${r.status} ${r.body}`);
    }
  }
  return { s, answers };
}

async function serverDecisions(s, claimIds) {
  const decisions = [];
  for (const id of claimIds) {
    const r = curl(s, [url(s, '/claims/' + encodeURIComponent(id))]);
    assert.equal(r.status, 200, `claim ${id}`);
    for (const h of JSON.parse(r.body).history) decisions.push(h.decision);
  }
  // Later events reach the outbox directory, one file each: wait until it stops growing.
  const out = path.join(s.dir, 'out');
  const files = () => (existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.x12')) : []);
  let seen = -1;
  let stableSince = Date.now();
  await waitFor(() => {
    const n = files().length;
    if (n !== seen) {
      seen = n;
      stableSince = Date.now();
    }
    return Date.now() - stableSince > 400;
  });
  const outbox = files().map((f) => readFileSync(path.join(out, f), 'utf8')).join('');
  return { decisions, outbox };
}

for (const name of readdirSync(scenarios).sort()) {
  const dir = path.join(scenarios, name);
  test(`${name}: replay and serve (MLLP, HTTP) decide and answer alike`, async () => {
    const replayed = replayScenario(dir);
    const ids = [...new Set(replayed.decisions.map((d) => d.claim_id))];
    const expected = replayed.decisions.map(withoutSource).sort();
    for (const door of ['mllp', 'http']) {
      const { s, answers } = await serveScenario(dir, door);
      const { decisions, outbox } = await serverDecisions(s, ids);
      s.proc.kill('SIGTERM');
      assert.deepEqual(decisions.map(withoutSource).sort(), expected, `${door}: decisions`);
      // First answers came back to the sender, later ones went to the outbox: together they
      // are what replay wrote.
      assert.deepEqual(claimBlocks(answers + outbox), replayed.blocks, `${door}: 277s`);
    }
  });
}
