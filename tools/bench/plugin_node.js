'use strict';
// Messages/s through the Node.js binding (plugins/node-red/lib/covgate.js, koffi) on
// plugin_bench's workload. Usage: node plugin_node.js [N] (needs plugins/node-red's
// node_modules: bash plugins/node-red/test.sh installs them).
const fs = require('fs');
const path = require('path');
const root = path.resolve(__dirname, '..', '..');
const {Gate} = require(path.join(root, 'plugins/node-red/lib/covgate.js'));

function report(what, n, seconds) {
  console.log(`${what.padEnd(34)} ${String(n).padStart(8)} msgs ${seconds.toFixed(3).padStart(8)} s ` +
              `${Math.round(n / seconds).toString().padStart(10)} msgs/s ` +
              `${(seconds * 1e6 / n).toFixed(1).padStart(8)} us/msg`);
}

const n = Number(process.argv[2] || 20000);
const folder = path.join(root, 'samples/inputs/scenarios/02-csii-release-after-late-lab');
const [record, claim, labs] = fs.readdirSync(folder).sort().map((f) => fs.readFileSync(path.join(folder, f)));
const text = claim.toString('latin1');
const claims = [];
for (let i = 0; i < n; i++) {
  claims.push(Buffer.from(text.replaceAll('000000502', String(100000 + i).padStart(9, '0'))
    .replaceAll('CSII-LATE', `B${i}`), 'latin1'));
}
const gate = new Gate();
gate.submit(record);
let start = process.hrtime.bigint();
for (const c of claims) gate.submit(c);
report('Node.js Gate.submit (claims)', n, Number(process.hrtime.bigint() - start) / 1e9);
start = process.hrtime.bigint();
gate.submit(labs);
const later = gate.poll();
for (const a of later) gate.ack(a.sequence);
report('Node.js (labs, poll + ack each)', later.length, Number(process.hrtime.bigint() - start) / 1e9);
gate.close();
if (later.length !== n) throw new Error(`the labs released ${later.length} claims, not ${n}`);
