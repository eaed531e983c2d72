// What the loopback tests share: starting covgate serve on port 0 (it prints what it bound),
// MLLP exchanges over plain sockets, curl for HTTP, bounded waits.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const covgate = process.env.COVGATE;
assert.ok(covgate, 'COVGATE must name the covgate binary');

export const SB = '\x0b';
export const EB = '\x1c\r';
export const frame = (payload) => SB + payload + EB;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const servers = [];
after(() => servers.forEach((s) => s.proc.kill('SIGKILL')));

export async function startServer(dir, settings = {}, env = {}, args = []) {
  const config = {
    mllp: { port: 0, read_timeout_ms: 500, idle_timeout_ms: 5000, max_frame_bytes: 65536,
      ...settings.mllp },
    http: { port: 0, ...settings.http },
    store: { directory: path.join(dir, 'data'), ...settings.store },
    outbox: { destinations: [{ kind: 'directory', path: path.join(dir, 'out') }],
      first_backoff_ms: 50, ...settings.outbox },
    ...settings.top,
  };
  writeFileSync(path.join(dir, 'covgate.json'), JSON.stringify(config));
  const proc = spawn(covgate, ['serve', '--config', path.join(dir, 'covgate.json'), ...args],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const line = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('no start line; stderr: ' + stderr)), 10000);
    proc.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) { clearTimeout(timer); resolve(out); }
    });
    proc.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  const server = {
    proc,
    dir,
    mllp: Number(/mllp [^ ]+:(\d+)/.exec(line)[1]),
    http: Number(/http [^ ]+:(\d+)/.exec(line)[1]),
    stderr: () => stderr,
  };
  servers.push(server);
  return server;
}

// Sends `chunks` (strings, written one by one) and collects `want` answer frames. A test that
// expects no answer passes a short timeoutMs; the default leaves a sanitizer build on a
// loaded machine room to answer.
export function mllpExchange(port, chunks, want, { timeoutMs = 30000, delayMs = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    const frames = [];
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('MLLP timeout')); },
      timeoutMs);
    socket.on('data', (d) => {
      buffer = Buffer.concat([buffer, d]);
      for (;;) {
        const start = buffer.indexOf(0x0b);
        const end = buffer.indexOf(Buffer.from(EB), start + 1);
        if (start < 0 || end < 0) break;
        frames.push(buffer.subarray(start + 1, end).toString('utf8'));
        buffer = buffer.subarray(end + 2);
      }
      if (frames.length >= want) { clearTimeout(timer); socket.end(); resolve(frames); }
    });
    socket.on('close', () => { clearTimeout(timer); resolve(frames); });
    socket.on('error', (e) => { clearTimeout(timer); reject(e); });
    socket.on('connect', async () => {
      for (const c of chunks) {
        socket.write(c);
        if (delayMs) await sleep(delayMs);
      }
    });
  });
}

export function curl(server, args) {
  const r = spawnSync('curl', ['-s', '-w', '\n%{http_code}', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `curl failed: ${r.stderr}`);
  const lines = r.stdout.split('\n');
  return { status: Number(lines.pop()), body: lines.join('\n') };
}

export const url = (server, p) => `http://127.0.0.1:${server.http}${p}`;

// A receiver that takes each connection and closes it without a word: an outbox attempt to it
// fails at once. (A port bound and then closed fails so only until the kernel hands that port to
// another process of a loaded machine; a listener there that never answers, or answers, would
// turn the failure into a 10 s timeout or a delivery.) Unreferenced: it never keeps a test file
// running.
export async function silentReceiver() {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  server.unref();
  return server;
}

// Every wait asserts that something happens, so a long bound costs only a failing run: 30 s
// leaves room for a sanitizer build sharing two cores with the cluster test.
export async function waitFor(predicate, ms = 30000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (predicate()) return true;
    await sleep(25);
  }
  return predicate();
}

