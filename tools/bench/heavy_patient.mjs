// A heavy patient against a running `covgate serve`: posts CLAIMS claims of one member (the
// 837 made by covgate-gen --patients 1, no clinical records, so most wait for documentation),
// then one Observation for that member, which re-evaluates every documentation hold the
// member has, while another connection keeps reading GET /claims/{id}. Prints one line:
//   heavy claims=N observation_ms=T reads_during=K read_p50_ms=A read_max_ms=B
// read_max_ms far below observation_ms says the reads did not queue behind the gate.
//   node tools/bench/heavy_patient.mjs COVGATE_GEN HTTP_PORT [CLAIMS]
import { execFileSync } from 'node:child_process';
import http from 'node:http';

const [gen, port, claimsArg] = process.argv.slice(2);
const claims = Number(claimsArg ?? 5000);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const readAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, path, body, contentType, via = agent) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: Number(port), method, path, agent: via,
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

const x12 = execFileSync(gen, ['--claims', String(claims), '--kind', 'P', '--patients', '1',
  '--documented', '0', '--claims-per-set', '5000', '--seed', '4242'], { maxBuffer: 1 << 30 })
  .toString();
const member = /NM1\*IL\*1\*[^~]*\*MI\*([A-Z0-9]+)~/.exec(x12)[1];
const posted = await request('POST', '/x12', x12, 'application/edi-x12');
if (posted.status !== 200) throw new Error(`POST /x12 answered ${posted.status}`);

const observation = JSON.stringify({
  resourceType: 'Observation', id: 'heavy-cpep', status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '13037-7' }] },
  subject: { identifier: { system: 'http://hl7.org/fhir/sid/us-mbi', value: member } },
  effectiveDateTime: '2026-01-05T08:00:00Z',
  valueQuantity: { value: 0.3, unit: 'ng/mL', system: 'http://unitsofmeasure.org', code: 'ng/mL' },
  referenceRange: [{ low: { value: 0.8, unit: 'ng/mL', system: 'http://unitsofmeasure.org',
    code: 'ng/mL' } }],
});

const reads = [];
let posting = true;
const reader = (async () => {
  while (posting) {
    const started = process.hrtime.bigint();
    const r = await request('GET', '/claims/CG2', null, null, readAgent);
    if (r.status !== 200) throw new Error(`GET /claims/CG2 answered ${r.status}`);
    if (posting) reads.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
})();
await new Promise((r) => setTimeout(r, 50));  // the reader is running before the fact arrives
reads.length = 0;
const started = process.hrtime.bigint();
const answer = await request('POST', '/fhir/Observation', observation, 'application/fhir+json');
const observationMs = Number(process.hrtime.bigint() - started) / 1e6;
posting = false;
await reader;
if (answer.status >= 300) throw new Error(`POST /fhir/Observation answered ${answer.status}`);
reads.sort((a, b) => a - b);
const at = (p) => (reads.length ? reads[Math.min(reads.length - 1, Math.floor(p * reads.length))]
  : 0).toFixed(2);
console.log(`heavy claims=${claims} observation_ms=${observationMs.toFixed(1)} ` +
  `reads_during=${reads.length} read_p50_ms=${at(0.5)} read_max_ms=${at(1)}`);
agent.destroy();
readAgent.destroy();
