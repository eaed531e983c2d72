// Load generator for `covgate serve`: closed-loop clients over MLLP (one 837 claim per
// message) and HTTP (one FHIR Observation per POST, keep-alive), at several connection counts.
// Prints one machine-readable line per run:
//   serve proto=mllp conns=16 messages=N seconds=S msgs_per_s=R p50_ms=A p99_ms=B p999_ms=C
//   node tools/bench/serve_load.mjs MLLP_PORT HTTP_PORT [SECONDS] [CONNS,...]
import net from 'node:net';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [mllpPort, httpPort] = process.argv.slice(2, 4).map(Number);
const seconds = Number(process.argv[4] ?? 5);
const connectionCounts = (process.argv[5] ?? '1,16,64').split(',').map(Number);
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const scenario = path.join(root, 'samples', 'inputs', 'scenarios', '02-csii-release-after-late-lab');
const claimTemplate = readFileSync(path.join(scenario, '2-claim.x12'), 'utf8').replaceAll('\n', '');
const labs = JSON.parse(readFileSync(path.join(scenario, '3-late-labs.json'), 'utf8'));
const observation = labs.entry[0].resource;

let serial = 0;
const nextClaim = () => {
  const n = String(++serial).padStart(7, '0');
  // A new claim id and member id each time, so every message is a new held claim.
  return claimTemplate.replaceAll('CSII-LATE', 'L' + n).replaceAll('2AA2AA2AA02', '2AA2' + n);
};
const nextObservation = () => {
  const n = String(++serial).padStart(7, '0');
  const o = structuredClone(observation);
  o.id = 'load-' + n;
  o.subject = { identifier: { system: 'http://hl7.org/fhir/sid/us-mbi', value: '2AA2' + n } };
  return JSON.stringify(o);
};

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function report(proto, conns, latencies, elapsed) {
  latencies.sort((a, b) => a - b);
  const f = (x) => x.toFixed(3);
  console.log(`serve proto=${proto} conns=${conns} messages=${latencies.length} ` +
    `seconds=${elapsed.toFixed(2)} msgs_per_s=${Math.round(latencies.length / elapsed)} ` +
    `p50_ms=${f(percentile(latencies, 50))} p99_ms=${f(percentile(latencies, 99))} ` +
    `p999_ms=${f(percentile(latencies, 99.9))}`);
}

function mllpClient(deadline, latencies) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(mllpPort, '127.0.0.1');
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    let sentAt = 0;
    const send = () => {
      if (Date.now() >= deadline) { socket.end(); return resolve(); }
      sentAt = performance.now();
      socket.write('\x0b' + nextClaim() + '\x1c\r');
    };
    socket.on('connect', send);
    socket.on('data', (d) => {
      buffer = Buffer.concat([buffer, d]);
      const end = buffer.indexOf('\x1c\r');
      if (end < 0) return;
      buffer = buffer.subarray(end + 2);
      latencies.push(performance.now() - sentAt);
      send();
    });
    socket.on('error', reject);
  });
}

function httpClient(deadline, latencies, agent) {
  return new Promise((resolve, reject) => {
    const send = () => {
      if (Date.now() >= deadline) return resolve();
      const body = nextObservation();
      const started = performance.now();
      const req = http.request({ host: '127.0.0.1', port: httpPort, method: 'POST',
        path: '/fhir/Observation', agent,
        headers: { 'Content-Type': 'application/fhir+json', 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 201) return reject(new Error('HTTP ' + res.statusCode));
          latencies.push(performance.now() - started);
          send();
        });
      });
      req.on('error', reject);
      req.end(body);
    };
    send();
  });
}

for (const proto of ['mllp', 'http']) {
  for (const conns of connectionCounts) {
    const latencies = [];
    const started = Date.now();
    const deadline = started + seconds * 1000;
    const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
    await Promise.all(Array.from({ length: conns }, () => (proto === 'mllp'
      ? mllpClient(deadline, latencies) : httpClient(deadline, latencies, agent))));
    agent.destroy();
    report(proto, conns, latencies, (Date.now() - started) / 1000);
  }
}
