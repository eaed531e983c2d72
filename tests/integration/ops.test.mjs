// covgate serve as an operator runs it: structured logs without patient data, request ids,
// /readyz, metrics that survive a restart, SIGHUP reloads, the store lock, the outbox's dead
// items listed and retried, and the built-in defaults. Loopback only; every wait is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  covgate, frame, servers, startServer, mllpExchange, curl, url, waitFor, silentReceiver,
} from './support.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const scenario = path.join(here, '..', '..', 'samples', 'inputs', 'scenarios',
  '02-csii-release-after-late-lab');
const record = readFileSync(path.join(scenario, '1-record.json'), 'utf8');
const claim = readFileSync(path.join(scenario, '2-claim.x12'), 'utf8');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'covgate-ops-'));
const jsonLines = (text) => text.trim().split('\n').filter((l) => l).map((l) => JSON.parse(l));
const postX12 = (s, body, extra = []) => curl(s, ['-X', 'POST', '-H',
  'Content-Type: application/edi-x12', ...extra, '--data-binary', body, url(s, '/x12')]);

test('logs: JSON lines with the start-up addresses and digest, request ids echoed, outcomes, '
  + 'never patient data', async () => {
  const s = await startServer(tmp(), { http: { tokens_env: 'COVGATE_OPS_TOKENS' } },
    { COVGATE_OPS_TOKENS: 'tok' });
  const auth = ['-H', 'Authorization: Bearer tok'];
  const held = postX12(s, claim, [...auth, '-H', 'X-Request-Id: trace-42', '-D', '-']);
  assert.equal(held.status, 200);
  assert.match(held.body, /X-Request-Id: trace-42/i, 'the client id is echoed');
  // An id that is not a plain token is replaced by one of ours.
  const odd = curl(s, [...auth, '-D', '-', '-H', 'X-Request-Id: has space', url(s, '/healthz')]);
  const ours = /X-Request-Id: ([^\r\n]+)/i.exec(odd.body)[1];
  assert.notEqual(ours, 'has space');
  assert.equal(curl(s, [url(s, '/claims')]).status, 401);
  const big = path.join(s.dir, 'big.x12');
  writeFileSync(big, 'x'.repeat(17 << 20));
  assert.equal(postX12(s, '@' + big, auth).status, 413);
  const [mllpAnswer] = await mllpExchange(s.mllp, [frame(claim)], 1);
  assert.match(mllpAnswer, /STC\*/);
  assert.ok(await waitFor(() => /"component":"mllp","msg":"message"/.test(s.stderr())));
  const lines = jsonLines(s.stderr());
  const start = lines.find((l) => l.msg === 'started');
  assert.equal(start.level, 'info');
  assert.equal(start.mllp, `127.0.0.1:${s.mllp}`);
  assert.equal(start.http, `127.0.0.1:${s.http}`);
  assert.match(start.config_digest, /^sha256:[0-9a-f]{16}$/);
  assert.match(start.revision, /^([0-9a-f]{12}(-dirty)?|unknown)$/);
  // A server keeps small pages whatever its allocator asks for (the kernel says so per process,
  // since Linux 5.0; older kernels take the request without showing it).
  const status = readFileSync(`/proc/${s.proc.pid}/status`, 'utf8');
  if (/^THP_enabled:/m.test(status)) {
    assert.equal(start.huge_pages, 'off');
    assert.match(status, /^THP_enabled:\s*0$/m);
  }
  for (const l of lines) assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const message = lines.find((l) => l.request_id === 'trace-42');
  assert.equal(message.route, '/x12');
  assert.equal(message.status, 200);
  assert.equal(message.outcome, 'accepted');
  assert.equal(message.claims, 1);
  assert.match(message.message, /^http:\d+$/);
  assert.ok(lines.some((l) => l.request_id === ours));
  assert.ok(lines.some((l) => l.status === 401 && l.level === 'warn' && l.route === '/claims'));
  assert.ok(lines.some((l) => l.status === 413 && l.route === '/x12'),
    lines.filter((l) => l.status >= 400).map((l) => JSON.stringify(l)).join('\n'));
  const mllp = lines.find((l) => l.component === 'mllp' && l.msg === 'message');
  assert.equal(mllp.kind, 'x12');
  assert.equal(mllp.outcome, 'accepted');
  // Never patient data: no claim id, member id or name, no message content.
  for (const secret of ['CSII-LATE', '2AA2AA2AA02', 'DOE', 'JANE', 'ISA*']) {
    assert.ok(!s.stderr().includes(secret), `the log holds ${secret}`);
  }
});

test('logs: --log-format text and --log-level warn', async () => {
  const s = await startServer(tmp(), {}, {}, ['--log-format', 'text', '--log-level', 'warn']);
  assert.equal(curl(s, [url(s, '/healthz')]).status, 200);
  assert.equal(curl(s, [url(s, '/nowhere/at/all')]).status, 404);
  postX12(s, 'ISA*00*bad');
  assert.ok(await waitFor(() => /status=400/.test(s.stderr())), s.stderr());
  assert.ok(!s.stderr().includes('{"time"'), 'not JSON');
  assert.ok(!/ info /.test(s.stderr()), 'info lines dropped at warn');
  assert.match(s.stderr(), /^\d{4}-\d\d-\d\dT[\d:.]+Z warn +http: request .*route=\/x12 status=400/m);
});

test('/readyz and metrics: claim gauges restored at start-up, HTTP by route and status, '
  + 'build info, process metrics', async () => {
  const dir = tmp();
  let s = await startServer(dir);
  const ready = curl(s, [url(s, '/readyz')]);
  assert.equal(ready.status, 200);
  assert.deepEqual(JSON.parse(ready.body),
    { status: 'ready', store: 'ok', recovery: 'done', listeners: 'bound' });
  assert.equal(postX12(s, claim).status, 200);
  const before = curl(s, [url(s, '/metrics')]).body;
  assert.match(before, /covgate_claims\{outcome="hold:documentation"\} 1/);
  assert.match(before, /covgate_http_requests_total\{route="\/x12",method="POST",status="200"\} 1/);
  assert.match(before, /covgate_http_requests_total\{route="\/readyz",method="GET",status="200"\} 1/);
  s.proc.kill('SIGTERM');
  await new Promise((r) => s.proc.on('exit', r));
  s = await startServer(dir);
  const after = curl(s, [url(s, '/metrics')]).body;
  assert.match(after, /covgate_claims\{outcome="hold:documentation"\} 1/, 'restored from the store');
  assert.match(after, /covgate_held_claims\{reason="csii\.criterion-b\.missing"\} 1/);
  assert.match(after, /covgate_held_claims\{reason="implantable\.excluded"\} 0/, 'zeros shown');
  const age = Number(/covgate_oldest_hold_seconds ([\d.]+)/.exec(after)[1]);
  assert.ok(age > 0 && age < 600, `oldest hold ${age} s`);
  assert.match(after, /covgate_build_info\{version="\d+\.\d+\.\d+",revision="[^"]+"\} 1/);
  assert.match(after, /process_resident_memory_bytes [1-9]\d*/);
  assert.match(after, /process_open_fds [1-9]\d*/);
  assert.match(after, /process_start_time_seconds [1-9]/);
  // A path no route serves is counted as "other", never by its text.
  curl(s, [url(s, '/secret-patient-path')]);
  const m = curl(s, [url(s, '/metrics')]).body;
  assert.match(m, /route="other",method="GET",status="404"/);
  assert.ok(!m.includes('secret-patient-path'));
  const meta = JSON.parse(curl(s, [url(s, '/fhir/metadata')]).body);
  assert.match(meta.software.version, /^\d+\.\d+\.\d+ \(.+\)$/);
});

test('a second server on the same store directory refuses to start', async () => {
  const dir = tmp();
  const s = await startServer(dir);
  writeFileSync(path.join(dir, 'second.json'), JSON.stringify({
    mllp: { port: 0 }, http: { port: 0 }, store: { directory: path.join(dir, 'data') } }));
  const second = spawnSync(covgate, ['serve', '--config', path.join(dir, 'second.json')],
    { encoding: 'utf8', timeout: 10000 });
  assert.equal(second.status, 2, second.stderr);
  assert.match(second.stderr, new RegExp(`in use by another covgate \\(pid ${s.proc.pid}\\)`));
  // replay --store takes the same lock.
  const replay = spawnSync(covgate, ['replay', '--store', path.join(dir, 'data'),
    path.join(scenario, '2-claim.x12')], { encoding: 'utf8', timeout: 10000 });
  assert.equal(replay.status, 2, replay.stderr);
  assert.match(replay.stderr, /in use by another covgate/);
  assert.equal(curl(s, [url(s, '/healthz')]).status, 200, 'the first one runs on');
});

test('SIGHUP reloads the bearer tokens and the outbox destinations; a broken file is refused '
  + 'and the server runs on', async () => {
  const dir = tmp();
  writeFileSync(path.join(dir, 'tokens'), 'first\n');
  const s = await startServer(dir, { http: { tokens_file: path.join(dir, 'tokens') },
    outbox: { destinations: [], every_answer: true } });
  const bearer = (t) => ['-H', `Authorization: Bearer ${t}`];
  assert.equal(curl(s, [...bearer('first'), url(s, '/outbox')]).status, 200);
  writeFileSync(path.join(dir, 'tokens'), 'second\n');
  const config = JSON.parse(readFileSync(path.join(dir, 'covgate.json'), 'utf8'));
  config.outbox.destinations = [{ kind: 'directory', path: path.join(dir, 'out') }];
  writeFileSync(path.join(dir, 'covgate.json'), JSON.stringify(config));
  s.proc.kill('SIGHUP');
  assert.ok(await waitFor(() => /"msg":"reloaded tokens and outbox destinations"/
    .test(s.stderr())), s.stderr());
  assert.equal(curl(s, [...bearer('first'), url(s, '/outbox')]).status, 401);
  assert.equal(curl(s, [...bearer('second'), url(s, '/outbox')]).status, 200);
  // The new destination gets the answers of messages that arrive from now on.
  assert.equal(postX12(s, claim, bearer('second')).status, 200);
  assert.ok(await waitFor(() => existsSync(path.join(dir, 'out'))
    && spawnSync('ls', [path.join(dir, 'out')], { encoding: 'utf8' }).stdout.includes('.x12')),
  'delivered to the destination added by the reload');
  // A file that no longer loads: the reload is refused, the running settings stay.
  writeFileSync(path.join(dir, 'covgate.json'), '{"mllp": {"port": "x"}}');
  s.proc.kill('SIGHUP');
  assert.ok(await waitFor(() => /"level":"error","component":"serve","msg":"reload refused/
    .test(s.stderr())), s.stderr());
  assert.equal(curl(s, [...bearer('second'), url(s, '/healthz')]).status, 200);
  const m = curl(s, [...bearer('second'), url(s, '/metrics')]).body;
  assert.match(m, /covgate_reloads_total\{result="applied"\} 1/);
  assert.match(m, /covgate_reloads_total\{result="refused"\} 1/);
});

test('the outbox: dead items are listed with their last error and retried', async () => {
  const port = (await silentReceiver()).address().port;  // never answers
  const s = await startServer(tmp(), { outbox: {
    destinations: [{ kind: 'mllp', host: '127.0.0.1', port }],
    every_answer: true, max_attempts: 2, first_backoff_ms: 10, max_backoff_ms: 20 } });
  assert.equal(postX12(s, claim).status, 200);
  let dead;
  assert.ok(await waitFor(() => {
    dead = JSON.parse(curl(s, [url(s, '/outbox?state=dead')]).body);
    return dead.items.length === 1;
  }), 'the item went dead');
  const [item] = dead.items;
  assert.equal(item.state, 'dead');
  assert.equal(item.attempts, 2);
  assert.equal(item.destination_kind, 'mllp');
  assert.ok(item.last_error.length > 0, 'the last error is shown');
  assert.equal(dead.next, null);
  assert.ok(!('body' in item), 'bodies are not shown');
  assert.ok(await waitFor(() => /"level":"error","component":"outbox","msg":"delivery failed; item dead/
    .test(s.stderr())), s.stderr());
  const metrics = curl(s, [url(s, '/metrics')]).body;
  assert.match(metrics, /covgate_outbox_dead_total 1/);
  assert.match(metrics, /covgate_outbox_attempts_total\{kind="mllp",result="failed"\} 2/);
  assert.match(metrics, /covgate_outbox_delivery_seconds_count 2/);
  assert.equal(curl(s, [url(s, '/outbox?state=nonsense')]).status, 400);
  assert.equal(curl(s, ['-X', 'POST', url(s, '/outbox/999999/retry')]).status, 404);
  const retried = curl(s, ['-X', 'POST', url(s, `/outbox/${item.id}/retry`)]);
  assert.equal(retried.status, 200, retried.body);
  assert.equal(JSON.parse(retried.body).attempts, 0);
  // Retried at once, and dead again after its attempts (nothing answers yet).
  assert.ok(await waitFor(() => /covgate_outbox_dead_total 2/.test(
    curl(s, [url(s, '/metrics')]).body)), 'retried, then dead again');
});

test('retention deletes delivered outbox items past their age on its own thread, at start '
  + 'and without holding the listeners; the counts follow', async () => {
  const dir = tmp();
  let s = await startServer(dir, { outbox: { every_answer: true } });
  assert.equal(postX12(s, claim).status, 200);
  let delivered;
  assert.ok(await waitFor(() => {
    delivered = JSON.parse(curl(s, [url(s, '/outbox?state=delivered')]).body).items;
    return delivered.length === 1;
  }), 'the answer was delivered to the directory');
  const [item] = delivered;
  assert.ok(Math.abs(item.delivered_ms - Date.now()) < 600000, `delivered_ms ${item.delivered_ms}`);
  assert.ok(!('next_attempt_ms' in item));
  assert.match(curl(s, [url(s, '/metrics')]).body, /covgate_outbox_items\{state="delivered"\} 1/);
  s.proc.kill('SIGTERM');
  await new Promise((r) => s.proc.on('exit', r));
  // Delivered 31 days ago, as far as the store knows (python3's sqlite3, not covgate's).
  const aged = spawnSync('python3', ['-c', `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE outbox SET next_ms = next_ms - 31 * 86400000 WHERE state = 'delivered'")
db.commit()`, path.join(dir, 'data', 'covgate.db')], { encoding: 'utf8' });
  assert.equal(aged.status, 0, aged.stderr);
  s = await startServer(dir, { outbox: { every_answer: true } });
  assert.ok(await waitFor(() => /"msg":"retention","deleted_messages":0,"deleted_delivered_items":1/
    .test(s.stderr())), s.stderr());
  assert.equal(curl(s, [url(s, `/outbox/${item.id}`)]).status, 404, 'deleted');
  assert.match(curl(s, [url(s, '/metrics')]).body, /covgate_outbox_items\{state="delivered"\} 0/);
  assert.equal(postX12(s, claim).status, 200, 'the listeners answer as before');
  s.proc.kill('SIGTERM');
  const code = await new Promise((r) => s.proc.on('exit', r));
  assert.equal(code, 0, 'the retention thread stops with the server');
});

test('serve without --config runs on the built-in defaults and says so', async () => {
  const dir = tmp();
  const proc = spawn(covgate, ['serve'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push({ proc });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => proc.on('exit', (code) => r(code)));
  const started = await Promise.race([
    waitFor(() => out.includes('\n'), 10000).then(() => true), exited.then(() => false)]);
  if (!started) {
    // Another program holds the default ports on this machine: the error must say which.
    assert.match(err, /built-in defaults: \/(mllp|http): cannot listen on 127\.0\.0\.1:(2575|8080)/);
    return;
  }
  assert.match(out, /^covgate serve: mllp 127\.0\.0\.1:2575 http 127\.0\.0\.1:8080 store covgate-data$/m);
  assert.match(err, /running on the built-in defaults/);
  assert.ok(existsSync(path.join(dir, 'covgate-data', 'covgate.db')), 'the store in ./covgate-data');
  proc.kill('SIGTERM');
  assert.equal(await exited, 0);
});
