// covgate serve over loopback with real clients: @medplum/hl7 (an MLLP client from npm) for
// HL7 v2, plain sockets for X12 over MLLP (the npm client parses every frame as HL7 v2), curl
// for HTTP. Ports are 0 (the server prints what it bound); every wait is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Hl7Client } from '@medplum/hl7';
import { Hl7Message } from '@medplum/core';

import {
  covgate, SB, EB, frame, sleep, servers, startServer, mllpExchange, curl, url, waitFor,
  silentReceiver,
} from './support.mjs';
const here = path.dirname(new URL(import.meta.url).pathname);
const scenario = path.join(here, '..', '..', 'samples', 'inputs', 'scenarios',
  '02-csii-release-after-late-lab');
const record = readFileSync(path.join(scenario, '1-record.json'), 'utf8');
const claim = readFileSync(path.join(scenario, '2-claim.x12'), 'utf8');
const lateLabs = readFileSync(path.join(scenario, '3-late-labs.json'), 'utf8');
const adt = 'MSH|^~\\&|EPIC|HOSP|COVGATE|GATE|202611271200||ADT^A01|MSG0001|P|2.5.1\r'
  + 'PID|1||1EG4TE5MK73^^^CMS^MC||DOE^JANE||19500102|F\r'
  + 'PV1|1|O|||||||||||||||||V1|||||||||||||||||||||||||202611271100\r';
const v2 = path.join(here, '..', '..', 'samples', 'inputs', 'scenarios-hl7v2',
  '02-csii-release-after-late-lab');

// The scenario's patient and claim, renamed so many can be in flight at once.
function patientFiles(n) {
  const mbi = '2AA2AA' + String(n).padStart(5, '0');
  const id = 'CL' + String(n).padStart(5, '0');
  // Each claim in its own interchange: a control number reused for other content is refused.
  const rename = (text) => text.replaceAll('2AA2AA2AA02', mbi).replaceAll('CSII-LATE', id)
    .replaceAll('000000502', String(100000000 + n));
  return { id, record: rename(record), claim: rename(claim), labs: rename(lateLabs) };
}

test('a claim held over MLLP is released by a FHIR lab over HTTP into the file destination',
  async () => {
    const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')));
    const stored = curl(s, ['-X', 'POST', '-H', 'Content-Type: application/fhir+json',
      '--data-binary', record, url(s, '/fhir/Bundle')]);
    assert.equal(stored.status, 201, stored.body);
    const [answer] = await mllpExchange(s.mllp, [frame(claim)], 1);
    assert.match(answer, /TRN\*2\*CSII-LATE~/);
    assert.match(answer, /STC\*P3:/, 'held for documentation');
    const labs = curl(s, ['-X', 'POST', '-H', 'Content-Type: application/fhir+json',
      '--data-binary', lateLabs, url(s, '/fhir')]);
    assert.equal(labs.status, 200, labs.body);
    assert.equal(JSON.parse(labs.body).type, 'batch-response');
    const file = path.join(s.dir, 'out', '1999999984_CSII-LATE-2.x12');
    assert.ok(await waitFor(() => existsSync(file)), 'release delivered to the directory');
    const release = readFileSync(file, 'utf8');
    assert.match(release, /STC\*A2:20\*/);
    assert.match(release, /REF\*1K\*CSII-LATE-2~/);
    const current = JSON.parse(curl(s, [url(s, '/claims/CSII-LATE')]).body);
    assert.equal(current.current.outcome, 'release');
    assert.deepEqual(current.history.map((h) => h.decision.event), ['hold', 'release']);
    const worklist = JSON.parse(curl(s, [url(s, '/claims?outcome=release')]).body);
    assert.deepEqual(worklist.claims.map((c) => c.id), ['CSII-LATE']);
  });

// @medplum/hl7 4.5.2 parses a read that ends in <FS><CR> as one message, so two answers
// arriving in one TCP read would be merged on its side: it is driven one message at a time
// here, and pipelining is tested with plain sockets below.
test('HL7 v2 through @medplum/hl7: ADT and ORU are read and acknowledged AA, in order',
  async () => {
    const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')));
    const client = new Hl7Client({ host: '127.0.0.1', port: s.mllp });
    try {
      const acks = [];
      for (const i of [1, 2, 3, 4, 5]) {
        acks.push(await client.sendAndWait(Hl7Message.parse(adt.replace('MSG0001', 'MSG000' + i)),
          { timeoutMs: 5000 }));
      }
      acks.forEach((ack, i) => {
        assert.equal(ack.getSegment('MSA').getField(1).toString(), 'AA');
        assert.equal(ack.getSegment('MSA').getField(2).toString(), 'MSG000' + (i + 1));
      });
      const oru = readFileSync(path.join(v2, '3-late-labs.hl7'), 'utf8');
      const labs = await client.sendAndWait(Hl7Message.parse(oru), { timeoutMs: 5000 });
      assert.equal(labs.getSegment('MSA').getField(1).toString(), 'AA');
      // The sender's HD fields come back whole, components and all.
      assert.equal(labs.getSegment('MSH').getField(5).toString(), 'COVGATE-SAMPLES');
    } finally {
      await client.close();
    }
    const metrics = curl(s, [url(s, '/metrics')]).body;
    assert.match(metrics, /covgate_messages_total\{channel="mllp",kind="hl7v2"\} 6/);
  });

test('HL7 v2: a late ORU releases a held claim; enhanced mode gets CA then AA; a resend is '
  + 'answered as before; an independent parser reads the ACKs', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')));
  const [record] = await mllpExchange(s.mllp,
    [frame(readFileSync(path.join(v2, '1-record.hl7'), 'utf8'))], 1);
  assert.match(record, /MSA\|AA\|/);
  const [held] = await mllpExchange(s.mllp, [frame(claim)], 1);
  assert.match(held, /STC\*P3:/);
  // Enhanced mode (MSH-15 AL, MSH-16 AL): a commit ACK, then the application ACK.
  const oru = readFileSync(path.join(v2, '3-late-labs.hl7'), 'utf8')
    .replace('|P|2.5.1', '|P|2.5.1|||AL|AL');
  const enhanced = await mllpExchange(s.mllp, [frame(oru)], 2);
  assert.equal(enhanced.length, 2);
  assert.match(enhanced[0], /MSA\|CA\|/);
  assert.match(enhanced[1], /MSA\|AA\|/);
  assert.ok(await waitFor(() => existsSync(path.join(s.dir, 'out', '1999999984_CSII-LATE-2.x12'))),
    'the release went to the outbox');
  // The same message again: its first answer, nothing processed twice.
  const again = await mllpExchange(s.mllp, [frame(oru)], 2);
  assert.deepEqual(again, enhanced);
  assert.equal(JSON.parse(curl(s, [url(s, '/claims/CSII-LATE')]).body).history.length, 2);
  // python3-hl7 (an independent parser) reads every ACK we wrote.
  const parsed = spawnSync('/usr/bin/python3', ['-c', `
import hl7, json, sys
for text in json.load(sys.stdin):
    m = hl7.parse(text)
    print(str(m.segment('MSA')[1]), str(m.segment('MSA')[2]))
`], { input: JSON.stringify([record, ...enhanced]), encoding: 'utf8' });
  assert.equal(parsed.status, 0, parsed.stderr);
  const lines = parsed.stdout.trim().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[1], /^CA ORU-/);
  assert.match(lines[2], /^AA ORU-/);
  // regression: MSH-15/16 NE asks for no ACK at all: nothing is written, not an empty frame.
  const none = oru.replace('|AL|AL', '|NE|NE').replace('ORU-', 'ORU-NE-');
  const silent = await mllpExchange(s.mllp, [frame(none)], 1, { timeoutMs: 1500 })
    .catch((e) => (e.message === 'MLLP timeout' ? [] : Promise.reject(e)));
  assert.deepEqual(silent, []);
  // Over HTTP too: POST /hl7v2 answers with the ACK.
  const http = curl(s, ['-X', 'POST', '-H', 'Content-Type: x-application/hl7-v2+er7',
    '--data-binary', adt.replace('MSG0001', 'HTTP1'), url(s, '/hl7v2')]);
  assert.equal(http.status, 200);
  assert.match(http.body, /MSA\|AA\|HTTP1/);
});

test('pipelined X12 frames in one write get their answers in order', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')));
  const a = patientFiles(1);
  const b = patientFiles(2);
  const answers = await mllpExchange(s.mllp, [frame(a.claim) + '\r\n\0' + frame(b.claim)], 2);
  assert.equal(answers.length, 2);
  assert.match(answers[0], /TRN\*2\*CL00001~/);
  assert.match(answers[1], /TRN\*2\*CL00002~/);
});

test('an interchange sent again is answered as before; a reused control number is refused', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')));
  const a = patientFiles(4);
  const [first] = await mllpExchange(s.mllp, [frame(a.claim)], 1);
  const [retry] = await mllpExchange(s.mllp, [frame(a.claim)], 1);
  assert.equal(retry, first, 'the same answer, byte for byte');
  const reused = patientFiles(5).claim.replaceAll('100000005', '100000004');
  const [refused] = await mllpExchange(s.mllp, [frame(reused)], 1);
  assert.match(refused, /TA1\*100000004\*\d{6}\*\d{4}\*R\*025~/);
  const metrics = curl(s, [url(s, '/metrics')]).body;
  assert.match(metrics, /covgate_repeated_interchanges_total 1\n/);
  assert.match(metrics, /covgate_events_total\{event="hold"\} 1\n/);
});

test('a frame written one byte at a time is answered like a whole one', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')));
  const bytes = [...frame(patientFiles(3).claim)];
  const [answer] = await mllpExchange(s.mllp, bytes, 1, { timeoutMs: 20000 });
  assert.match(answer, /TRN\*2\*CL00003~/);
});

test('an oversized frame is answered AR and the connection closed', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')),
    { mllp: { max_frame_bytes: 4096 } });
  const answers = await mllpExchange(s.mllp, [frame('MSH|^~\\&|' + 'x'.repeat(5000))], 5);
  assert.equal(answers.length, 1, 'one answer, then the server closed');
  assert.match(answers[0], /MSA\|AR\|/);
  assert.match(answers[0], /frame larger than the configured maximum/);
});

test('a client that stops mid-frame is timed out; others are served meanwhile', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')));
  const stalled = net.connect(s.mllp, '127.0.0.1');
  await new Promise((r) => stalled.on('connect', r));
  stalled.write(SB + 'MSH|^~\\&|SLOW');
  const closed = new Promise((r) => stalled.on('close', r));
  const [answer] = await mllpExchange(s.mllp, [frame(adt)], 1);
  assert.match(answer, /MSA\|AA\|MSG0001/);
  const started = Date.now();
  await closed;
  assert.ok(Date.now() - started < 5000, 'closed by the 500 ms read timeout');
  assert.equal(curl(s, [url(s, '/healthz')]).status, 200);
});

test('200 concurrent MLLP connections are all answered', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')));
  const answers = await Promise.all(Array.from({ length: 200 }, (_, i) =>
    mllpExchange(s.mllp, [frame(adt.replace('MSG0001', 'C' + i))], 1, { timeoutMs: 20000 })));
  answers.forEach((a, i) => assert.match(a[0], new RegExp(`MSA\\|AA\\|C${i}\\r`)));
  const metrics = curl(s, [url(s, '/metrics')]).body;
  assert.match(metrics, /covgate_messages_total\{channel="mllp",kind="hl7v2"\} 200/);
});

test('HTTP: bearer tokens from the environment, health, metrics, errors as JSON', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')),
    { http: { tokens_env: 'COVGATE_IT_TOKENS' } }, { COVGATE_IT_TOKENS: 's3cret,other' });
  assert.equal(curl(s, [url(s, '/healthz')]).status, 200, 'health needs no token');
  assert.equal(curl(s, [url(s, '/metrics')]).status, 401);
  assert.equal(curl(s, ['-H', 'Authorization: Bearer wrong', url(s, '/metrics')]).status, 401);
  const auth = ['-H', 'Authorization: Bearer s3cret'];
  const metrics = curl(s, [...auth, url(s, '/metrics')]);
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, /# TYPE covgate_message_seconds histogram/);
  const meta = JSON.parse(curl(s, [...auth, url(s, '/fhir/metadata')]).body);
  assert.equal(meta.resourceType, 'CapabilityStatement');
  const bad = curl(s, [...auth, '-X', 'POST', '-H', 'Content-Type: application/edi-x12',
    '--data-binary', 'ISA*00*bad', url(s, '/x12')]);
  assert.equal(bad.status, 400);
  assert.match(bad.body, /TA1\*|ST\*999/);
  assert.equal(curl(s, [...auth, url(s, '/claims?outcome=bogus')]).status, 400);
  assert.equal(curl(s, [...auth, url(s, '/claims/NOPE')]).status, 404);
  const bigFile = path.join(s.dir, 'big.x12');
  writeFileSync(bigFile, 'x'.repeat(20 << 20));
  const big = curl(s, [...auth, '-X', 'POST', '--data-binary', '@' + bigFile, url(s, '/x12')]);
  assert.equal(big.status, 413);
});

test('crash: kill -9 under load loses no acknowledged message and no release', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'covgate-crash-'));
  let s = await startServer(dir);
  const patients = Array.from({ length: 40 }, (_, i) => patientFiles(100 + i));
  for (const p of patients) {
    const r = curl(s, ['-X', 'POST', '--data-binary', p.record, url(s, '/fhir/Bundle')]);
    assert.equal(r.status, 201);
  }
  // Claims over MLLP, eight connections at a time; an answer means it was committed.
  const heldClaims = [];
  for (let i = 0; i < patients.length; i += 8) {
    const batch = patients.slice(i, i + 8);
    const answers = await Promise.all(batch.map((p) => mllpExchange(s.mllp, [frame(p.claim)], 1)));
    answers.forEach((a, j) => { if (a.length === 1) heldClaims.push(batch[j].id); });
  }
  assert.equal(heldClaims.length, patients.length);
  // Late labs over HTTP in parallel; the server is killed while they are in flight.
  const acknowledged = [];
  const posts = patients.map((p) => new Promise((resolve) => {
    const child = spawn('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST',
      '--data-binary', p.labs, url(s, '/fhir')]);
    let code = '';
    child.stdout.on('data', (d) => { code += d; });
    child.on('close', () => { if (code === '200') acknowledged.push(p.id); resolve(); });
  }));
  await waitFor(() => acknowledged.length >= 10, 20000);
  s.proc.kill('SIGKILL');
  await Promise.all(posts);
  assert.ok(acknowledged.length >= 10 && acknowledged.length <= patients.length);
  s = await startServer(dir);
  for (const id of heldClaims) {
    assert.equal(curl(s, [url(s, '/claims/' + id)]).status, 200, `claim ${id} survived`);
  }
  // Every acknowledged lab released its claim, and that release reaches the directory.
  const out = path.join(dir, 'out');
  const delivered = () => existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.x12')) : [];
  assert.ok(await waitFor(() => acknowledged.every((id) => delivered().includes(`1999999984_${id}-2.x12`)),
    20000), `missing releases: ${acknowledged.filter((id) => !delivered().includes(`1999999984_${id}-2.x12`))}`);
  for (const id of acknowledged) {
    assert.equal(JSON.parse(curl(s, [url(s, '/claims/' + id)]).body).current.outcome, 'release');
  }
  // Nothing delivered that is not a release with its idempotency key as the name.
  for (const f of delivered()) assert.match(f, /^1999999984_CL\d{5}-2\.x12$/);
  rmSync(dir, { recursive: true, force: true });
});

test('MLLP release 2: a commit ACK precedes each answer', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')),
    { mllp: { commit_acks: true } });
  const answers = await mllpExchange(s.mllp, [frame(adt)], 2);
  assert.equal(answers[0], '\x06', 'commit ACK <SB><ACK><EB><CR>');
  assert.match(answers[1], /MSA\|AA\|MSG0001/);
});

test('the outbox delivers to HTTP and MLLP receivers with the idempotency key, and '
  + 'dead-letters a receiver that never answers', async () => {
  const posts = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      posts.push({ key: req.headers['idempotency-key'], body });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const frames = [];
  const peer = net.createServer((socket) => {
    let buffer = '';
    socket.on('data', (d) => {
      buffer += d.toString('latin1');
      const end = buffer.indexOf(EB);
      if (end < 0) return;
      frames.push(buffer.slice(1, end));
      buffer = buffer.slice(end + 2);
      socket.write(frame('MSH|^~\\&|PEER|||||||ACK|1|P|2.5.1\rMSA|AA|1\r'));
    });
  });
  await new Promise((r) => peer.listen(0, '127.0.0.1', r));
  const silent = await silentReceiver();  // every attempt fails at once
  try {
    const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')), {
      outbox: {
        destinations: [
          { kind: 'http', url: `http://127.0.0.1:${receiver.address().port}/releases` },
          { kind: 'mllp', host: '127.0.0.1', port: peer.address().port },
          { kind: 'mllp', host: '127.0.0.1', port: silent.address().port },
        ],
        max_attempts: 2,
      },
    });
    // What the outbox logged (item ids, destinations and reasons; no claim ids), for a failure.
    const outboxLog = () => s.stderr().split('\n').filter((l) => l.includes('"outbox"')).join('\n');
    const metric = (state) => new RegExp(`covgate_outbox_items\\{state="${state}"\\} (\\d+)`)
      .exec(curl(s, [url(s, '/metrics')]).body)?.[1];
    assert.equal(curl(s, ['-X', 'POST', '--data-binary', record, url(s, '/fhir/Bundle')]).status,
      201);
    assert.equal((await mllpExchange(s.mllp, [frame(claim)], 1, { timeoutMs: 30000 })).length, 1);
    assert.equal(curl(s, ['-X', 'POST', '--data-binary', lateLabs, url(s, '/fhir')]).status, 200);
    // Bounds generous enough for a sanitizer build sharing two cores with other tests.
    assert.ok(await waitFor(() => posts.length >= 1 && frames.length >= 1, 30000),
      `http ${posts.length}, mllp ${frames.length}\n${outboxLog()}`);
    assert.ok(await waitFor(() => metric('dead') === '1' && metric('delivered') === '2', 30000),
      `dead ${metric('dead')}, delivered ${metric('delivered')}\n${outboxLog()}`);
    // Once each, with the idempotency key: nothing was delivered twice.
    assert.equal(posts.length, 1);
    assert.equal(frames.length, 1);
    assert.equal(posts[0].key, '1999999984_CSII-LATE-2');  // billing NPI, then REF*1K
    assert.match(posts[0].body, /REF\*1K\*CSII-LATE-2~/);
    assert.match(frames[0], /STC\*A2:20\*/);
  } finally {
    receiver.close();
    peer.close();
    silent.close();
  }
});

test('a reviewer releases a review hold over HTTP, recorded with who and why', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')));
  const implantable = claim.replace('E0784:KX:NU', 'E0783:KX').replaceAll('CSII-LATE', 'IMPL-1');
  const [answer] = await mllpExchange(s.mllp, [frame(implantable)], 1);
  assert.match(answer, /TRN\*2\*IMPL-1~/);
  const held = JSON.parse(curl(s, [url(s, '/claims/IMPL-1')]).body).current.outcome;
  assert.notEqual(held, 'release');
  assert.equal(curl(s, ['-X', 'POST', '--data-binary', '{}', url(s, '/claims/IMPL-1/release')])
    .status, 400, 'who and why are required');
  const done = curl(s, ['-X', 'POST', '--data-binary', '{"by":"alice","reason":"trial on file"}',
    url(s, '/claims/IMPL-1/release')]);
  assert.equal(done.status, 200, done.body);
  const after = JSON.parse(done.body);
  assert.equal(after.current.outcome, 'release');
  assert.equal(after.history.at(-1).decision.source, 'review:alice');
  assert.equal(after.history.at(-1).who, 'alice');
  assert.equal(after.history.at(-1).why, 'trial on file');
  assert.match(after.history.at(-1).at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(await waitFor(() => existsSync(path.join(s.dir, 'out', '1999999984_IMPL-1-2.x12'))));
  // The action is logged with its outcome and a hash of the claim id, never the id, the
  // reviewer or the note.
  assert.ok(await waitFor(() => /"route":"\/claims\/\{id\}\/release","status":200,.*"outcome":"released","claim":"[0-9a-f]{12}"/
    .test(s.stderr())), s.stderr());
  for (const secret of ['IMPL-1', 'alice', 'trial on file']) {
    assert.ok(!s.stderr().includes(secret), `the log holds ${secret}`);
  }
});

test('TLS on both listeners: MLLP over TLS and HTTPS with a self-signed certificate', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'covgate-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj',
    '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const files = { certificate: cert, private_key: key };
  const s = await startServer(dir, { mllp: { tls: files }, http: { tls: files } });
  const answer = await new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: s.mllp, ca: readFileSync(cert),
      servername: 'localhost' }, () => socket.write(frame(adt)));
    let text = '';
    socket.on('data', (d) => {
      text += d;
      if (text.endsWith(EB)) { socket.end(); resolve(text); }
    });
    socket.on('error', reject);
  });
  assert.match(answer, /MSA\|AA\|MSG0001/);
  const health = curl(s, ['--cacert', cert, '--resolve', `localhost:${s.http}:127.0.0.1`,
    `https://localhost:${s.http}/healthz`]);
  assert.equal(health.status, 200);
  // Plain text to a TLS listener is a failed handshake, counted, and the server carries on.
  const plain = await mllpExchange(s.mllp, [frame(adt)], 1, { timeoutMs: 3000 });
  assert.equal(plain.length, 0);
  const metrics = curl(s, ['--cacert', cert, '--resolve', `localhost:${s.http}:127.0.0.1`,
    `https://localhost:${s.http}/metrics`]).body;
  assert.match(metrics, /covgate_connections_refused_total\{listener="mllp",reason="tls-handshake"\} 1/);
});

// ---- Hardening: each finding of the attack pass, reproduced over real sockets. ----

// Writes raw bytes on one connection and collects everything until the server closes it.
function rawExchange(port, bytes, { timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('raw timeout')); },
      timeoutMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d) => { text += d.toString('latin1'); });
    socket.on('close', () => { clearTimeout(timer); resolve(text); });
    socket.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

test('regression: one byte every 200 ms cannot keep an MLLP frame open past read_timeout',
  async () => {
    const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')),
      { mllp: { read_timeout_ms: 1000 } });
    const socket = net.connect(s.mllp, '127.0.0.1');
    await new Promise((r) => socket.on('connect', r));
    const closed = new Promise((r) => socket.on('close', r));
    socket.on('error', () => {});
    const started = Date.now();
    socket.write(SB);
    const drip = setInterval(() => socket.write('x'), 200);
    await closed;
    clearInterval(drip);
    const lasted = Date.now() - started;
    assert.ok(lasted >= 900 && lasted < 3000, `closed after ${lasted} ms, not kept open`);
  });

test('regression: garbage between frames does not keep an idle connection open', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')),
    { mllp: { idle_timeout_ms: 1000 } });
  const socket = net.connect(s.mllp, '127.0.0.1');
  await new Promise((r) => socket.on('connect', r));
  const closed = new Promise((r) => socket.on('close', r));
  socket.on('error', () => {});
  const started = Date.now();
  const drip = setInterval(() => socket.write('\r'), 200);
  await closed;
  clearInterval(drip);
  assert.ok(Date.now() - started < 3000, 'closed by the idle timeout');
});

test('regression: partial frames share one byte budget across connections', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')),
    { mllp: { max_frame_bytes: 4 << 20, max_buffered_bytes: 1 << 20, read_timeout_ms: 20000 } });
  // Three peers each hold 600 KB of an unfinished frame: the second one passes the budget.
  const sockets = [];
  const outcomes = [];
  for (let i = 0; i < 3; ++i) {
    const socket = net.connect(s.mllp, '127.0.0.1');
    await new Promise((r) => socket.on('connect', r));
    let text = '';
    socket.on('data', (d) => { text += d.toString('latin1'); });
    socket.on('error', () => {});
    outcomes.push(new Promise((r) => socket.on('close', () => r(text))));
    socket.write(SB + 'MSH|^~\\&|' + 'x'.repeat(600 << 10));
    sockets.push(socket);
    await sleep(300);
  }
  const refused = await Promise.race([Promise.any(outcomes), sleep(5000).then(() => null)]);
  assert.ok(refused !== null, 'a connection over the budget is closed');
  assert.match(refused, /MSA\|AR\|/);
  assert.match(refused, /server busy/);
  assert.match(curl(s, [url(s, '/metrics')]).body,
    /covgate_connections_refused_total\{listener="mllp",reason="buffer-budget"\} [1-9]/);
  sockets.forEach((x) => x.destroy());
  // Once they are gone, a normal message is served again.
  const [answer] = await mllpExchange(s.mllp, [frame(adt)], 1);
  assert.match(answer, /MSA\|AA\|MSG0001/);
});

test('regression: a crafted FHIR id cannot split the HTTP response on a keep-alive connection',
  async () => {
    const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')));
    const body = '{"resourceType":"Patient","id":"x\\r\\nSet-Cookie: evil=1"}';
    const request = `POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n`
      + `\r\n${body}GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
    const text = await rawExchange(s.http, request);
    assert.ok(!/\r\nSet-Cookie:/i.test(text), 'no injected header');
    assert.equal((text.match(/HTTP\/1\.1 \d{3} /g) || []).length, 2, 'exactly two responses');
    assert.match(text, /^HTTP\/1\.1 400 /);
  });

test('regression: a malformed request gets 400 and an oversized header 431', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')),
    { http: { header_limit: 4096 } });
  const malformed = await rawExchange(s.http, 'GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n');
  assert.match(malformed, /^HTTP\/1\.1 400 /);
  const big = await rawExchange(s.http,
    `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8192)}\r\n\r\n`);
  assert.match(big, /^HTTP\/1\.1 431 /);
});

test('regression: garbage frames are journaled as a digest and their first KB', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')),
    { mllp: { max_frame_bytes: 6 << 20 }, store: { journal_max_bytes: 1 << 20 } });
  for (let i = 0; i < 10; ++i) {
    const answers = await mllpExchange(s.mllp, [frame('garbage ' + 'g'.repeat(5 << 20))], 1,
      { timeoutMs: 20000 });
    assert.equal(answers.length, 1);
  }
  const bytes = Number(/covgate_journal_bytes (\d+)/.exec(curl(s, [url(s, '/metrics')]).body)[1]);
  assert.ok(bytes <= 1 << 20, `journal holds ${bytes} bytes`);
  const db = path.join(s.dir, 'data', 'covgate.db');
  const rows = spawnSync('sqlite3', [db, 'SELECT bytes, received_bytes, substr(digest,1,7) FROM journal'],
    { encoding: 'utf8' });
  assert.match(rows.stdout, /^1024\|5242888\|sha256:/m);
});

test('regression: a store failure (file size limit: disk full) is said on stderr', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'covgate-full-'));
  const config = {
    mllp: { enabled: false },
    http: { port: 0 },
    store: { directory: path.join(dir, 'data') },
  };
  writeFileSync(path.join(dir, 'covgate.json'), JSON.stringify(config));
  // SIGXFSZ ignored: writes past the limit fail with EFBIG, as on a full disk.
  const proc = spawn('bash', ['-c', `trap '' XFSZ; ulimit -f 4096; exec "$0" serve --config "$1"`,
    covgate, path.join(dir, 'covgate.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push({ proc });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const line = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(out); });
    proc.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  const port = Number(/http [^ ]+:(\d+)/.exec(line)[1]);
  const server = { http: port };
  let failed = false;
  for (let i = 0; i < 200 && !failed; ++i) {
    const p = patientFiles(500 + i);
    const r = curl(server, ['-X', 'POST', '--data-binary', p.record + ' '.repeat(64 << 10),
      url(server, '/fhir/Bundle')]);
    failed = r.status === 503;
  }
  assert.ok(failed, 'the store filled up and the server answered 503');
  // One structured line with SQLite's reason; the refused requests are logged as errors.
  assert.ok(await waitFor(() => /"component":"store","msg":"store failure","reason":"[^"]+"/
    .test(stderr)), stderr);
  assert.match(stderr, /"level":"error","component":"http","msg":"request".*"status":503/);
  assert.equal(curl(server, [url(server, '/healthz')]).status, 503);
  const ready = curl(server, [url(server, '/readyz')]);
  assert.equal(ready.status, 503);
  assert.equal(JSON.parse(ready.body).store, 'failed');
});

test('regression: without a token a body is never read (401 on the headers); bodies share a budget',
  async () => {
    const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')),
      { http: { tokens_env: 'COVGATE_IT_TOKENS', max_buffered_bytes: 1 << 20 } },
      { COVGATE_IT_TOKENS: 's3cret' });
    // 10 MB announced, nothing sent: refused at once.
    const refused = await rawExchange(s.http,
      'POST /x12 HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n');
    assert.match(refused, /^HTTP\/1\.1 401 /);
    // Two authenticated bodies of 800 KB each in flight: the second is over the 1 MB budget.
    const hold = net.connect(s.http, '127.0.0.1');
    await new Promise((r) => hold.on('connect', r));
    hold.on('error', () => {});
    hold.write('POST /x12 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n'
      + 'Content-Length: 800000\r\n\r\nISA');
    await sleep(200);
    const busy = await rawExchange(s.http, 'POST /x12 HTTP/1.1\r\nHost: x\r\n'
      + 'Authorization: Bearer s3cret\r\nContent-Length: 800000\r\n\r\n');
    assert.match(busy, /^HTTP\/1\.1 503 /);
    assert.match(busy, /Retry-After: 1/);
    hold.destroy();
    await sleep(200);
    const health = curl(s, ['-H', 'Authorization: Bearer s3cret', url(s, '/metrics')]);
    assert.match(health.body,
      /covgate_connections_refused_total\{listener="http",reason="buffer-budget"\} 1/);
  });

test('the allow-list and the connection limit refuse connections, counted by reason', async () => {
  const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')),
    { mllp: { allow: ['10.0.0.0/8'] }, http: { max_connections: 1 } });
  const refused = await mllpExchange(s.mllp, [frame(adt)], 1, { timeoutMs: 3000 })
    .catch((e) => (e.code === 'ECONNRESET' ? [] : Promise.reject(e)));
  assert.equal(refused.length, 0, 'closed without an answer');
  const held = net.connect(s.http, '127.0.0.1');
  await new Promise((r) => held.on('connect', r));
  await sleep(100);
  const second = await rawExchange(s.http, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    .catch((e) => (e.code === 'ECONNRESET' ? '' : Promise.reject(e)));
  assert.equal(second, '', 'over the limit: closed at once');
  held.destroy();
  await sleep(100);
  const metrics = curl(s, [url(s, '/metrics')]).body;
  assert.match(metrics, /covgate_connections_refused_total\{listener="mllp",reason="not-allowed"\} 1/);
  assert.match(metrics, /covgate_connections_refused_total\{listener="http",reason="limit"\} 1/);
});

// Plain node:http with keep-alive, so a read's time is the server's, not a new process's.
function httpRequest(port, agent, method, p, body, contentType) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, agent,
      headers: body ? { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }
        : {} }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

test('regression: a fact re-evaluating a heavy patient does not hold up GET /claims/{id}',
  async () => {
    // One member with 3,000 undocumented claims; one Observation then re-evaluates every one
    // of those holds inside the gate, while another connection keeps reading an insulin-pump
    // claim (whose detail documents CSII from the patient's facts). The reads used to wait
    // for the gate's lock: the slowest lasted as long as the Observation itself.
    const s = await startServer(mkdtempSync(path.join(os.tmpdir(), 'covgate-it-')));
    const x12 = spawnSync(process.env.GEN, ['--claims', '3000', '--kind', 'P', '--patients', '1',
      '--documented', '0', '--claims-per-set', '3000', '--seed', '4242'],
    { maxBuffer: 1 << 28 }).stdout.toString();
    const member = /NM1\*IL\*1\*[^~]*\*MI\*([A-Z0-9]+)~/.exec(x12)[1];
    const writer = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const readerAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const posted = await httpRequest(s.http, writer, 'POST', '/x12', x12, 'application/edi-x12');
    assert.equal(posted.status, 200);
    const detail = await httpRequest(s.http, readerAgent, 'GET', '/claims/CG2');
    assert.equal(detail.status, 200, detail.body);
    assert.ok(JSON.parse(detail.body).csii, 'CG2 has an insulin-pump line: its detail reads facts');
    const observation = JSON.stringify({
      resourceType: 'Observation', id: 'heavy-cpep', status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '13037-7' }] },
      subject: { identifier: { system: 'http://hl7.org/fhir/sid/us-mbi', value: member } },
      effectiveDateTime: '2026-01-05T08:00:00Z',
      valueQuantity: { value: 0.3, unit: 'ng/mL', system: 'http://unitsofmeasure.org',
        code: 'ng/mL' },
      referenceRange: [{ low: { value: 0.8, unit: 'ng/mL', system: 'http://unitsofmeasure.org',
        code: 'ng/mL' } }],
    });
    const reads = [];
    let posting = true;
    const reading = (async () => {
      while (posting) {
        const started = process.hrtime.bigint();
        const r = await httpRequest(s.http, readerAgent, 'GET', '/claims/CG2');
        assert.equal(r.status, 200);
        if (posting) reads.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    })();
    await sleep(50);
    reads.length = 0;
    const started = process.hrtime.bigint();
    const answer = await httpRequest(s.http, writer, 'POST', '/fhir/Observation', observation,
      'application/fhir+json');
    const observationMs = Number(process.hrtime.bigint() - started) / 1e6;
    posting = false;
    await reading;
    assert.ok(answer.status < 300, answer.body);
    writer.destroy();
    readerAgent.destroy();
    // Ratios within this run, not a time limit: several reads finished while the Observation
    // was in the gate, and none took as long as half of it.
    const slowest = Math.max(...reads);
    assert.ok(reads.length >= 3, `${reads.length} reads during a ${observationMs} ms Observation`);
    assert.ok(slowest < observationMs / 2,
      `slowest read ${slowest} ms during a ${observationMs} ms Observation`);
  });
