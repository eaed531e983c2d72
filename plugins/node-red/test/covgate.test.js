'use strict';
// The covgate node under Node-RED (node-red-node-test-helper): scenario 02 through a flow
// (record accepted, claim held with its 277 on output 1, labs accepted, the later release
// on output 2), HL7 v2 answered with an ACK, junk rejected, a bad configuration reported, and
// the binding itself (lib/covgate.js) over a durable store across a restart.
const {test, before, after, afterEach} = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const covgateNode = require('../covgate.js');
const {Gate, CovgateError} = require('../lib/covgate.js');

helper.init(require.resolve('node-red'));
const root = path.resolve(__dirname, '..', '..', '..');
const folder = path.join(root, 'samples/inputs/scenarios/02-csii-release-after-late-lab');
const files = fs.readdirSync(folder).sort().map((f) => path.join(folder, f));

before(() => new Promise((resolve) => helper.startServer(resolve)));
after(() => new Promise((resolve) => helper.stopServer(resolve)));
afterEach(() => helper.unload());

function flow(config = '') {
  return [
    {id: 'g', type: 'covgate', name: 'covgate', config, interval: 50, wires: [['answers'], ['later']]},
    {id: 'answers', type: 'helper'},
    {id: 'later', type: 'helper'}
  ];
}

function next(node) {
  return new Promise((resolve) => node.once('input', resolve));
}

test('a late lab releases the held claim on the second output', {timeout: 30000}, async () => {
  await helper.load(covgateNode, flow());
  const g = helper.getNode('g');
  const answers = helper.getNode('answers');
  const later = helper.getNode('later');
  const releases = [];
  later.on('input', (m) => releases.push(m));

  let got = next(answers);
  g.receive({payload: fs.readFileSync(files[0])});
  let m = await got;
  assert.strictEqual(m.covgate.disposition, 'accepted');
  assert.match(m.payload, /OperationOutcome/);

  got = next(answers);
  g.receive({payload: fs.readFileSync(files[1], 'utf8')});  // a string works too
  m = await got;
  assert.strictEqual(m.covgate.disposition, 'hold');
  assert.strictEqual(m.contentType, 'application/edi-x12');
  assert.ok(m.payload.startsWith('ISA*'));
  assert.deepStrictEqual(m.covgate.decisions.map((d) => d.event), ['hold']);
  assert.match(m.covgate.decisions[0].source, /^node-red:g:2:/);

  const released = next(later);
  got = next(answers);
  g.receive({payload: JSON.parse(fs.readFileSync(files[2], 'utf8'))});  // as http in parses it
  m = await got;
  assert.strictEqual(m.covgate.disposition, 'accepted');
  assert.deepStrictEqual(m.covgate.decisions.map((d) => d.event), ['release']);
  const r = await released;
  assert.strictEqual(r.covgate.key, '1999999984_CSII-LATE-2');
  assert.strictEqual(r.covgate.disposition, 'release');
  assert.match(r.payload, /REF\*1K\*CSII-LATE-2~/);
  await new Promise((resolve) => setTimeout(resolve, 200));  // a few polls later: sent once
  assert.strictEqual(releases.length, 1);
  assert.strictEqual(g.gate.health().laterWaiting, 0);  // the node acknowledged it
});

test('the node shows the gate\'s health as its status', {timeout: 30000}, async () => {
  await helper.load(covgateNode, flow());
  const g = helper.getNode('g');
  const shown = [];
  const status = g.status.bind(g);
  g.status = (s) => {
    shown.push(s);
    status(s);
  };
  await new Promise((resolve) => setTimeout(resolve, 300));  // a few drains at 50 ms
  assert.deepStrictEqual(shown, [{fill: 'green', shape: 'dot', text: 'healthy'}]);  // once
});

test('HL7 v2 gets its ACK; junk is rejected with findings', {timeout: 30000}, async () => {
  await helper.load(covgateNode, flow('{"hl7v2": {"processing_ids": ["P", "T"]}}'));
  const g = helper.getNode('g');
  const answers = helper.getNode('answers');
  const v2 = path.join(root, 'samples/inputs/scenarios-hl7v2/02-csii-release-after-late-lab');
  const first = fs.readdirSync(v2).sort()[0];
  let got = next(answers);
  g.receive({payload: fs.readFileSync(path.join(v2, first))});
  let m = await got;
  assert.strictEqual(m.contentType, 'x-application/hl7-v2+er7');
  assert.match(m.payload, /MSA\|AA\|/);
  got = next(answers);
  g.receive({payload: 'hello, not a claim'});
  m = await got;
  assert.strictEqual(m.covgate.disposition, 'rejected');
  assert.strictEqual(m.payload, '');
  assert.ok(m.covgate.findings.length > 0);
});

test('a bad configuration is reported and the node stays closed', {timeout: 30000}, async () => {
  await helper.load(covgateNode, flow('{"x12": {"max_elements": 3}}'));
  const g = helper.getNode('g');
  assert.strictEqual(g.gate, undefined);
  const logged = helper.log().args.filter((a) => String(a[0].msg || '').includes('/x12/max_elements'));
  assert.ok(logged.length > 0, 'the error names the setting');
});

test('the binding: unacknowledged later answers come back after a restart', {timeout: 30000}, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'covgate-node-'));
  try {
    const config = {store: {directory: 'state'}};
    let first;
    {
      const gate = new Gate(config, dir);
      for (const f of files) gate.submit(fs.readFileSync(f));
      first = gate.poll();
      assert.strictEqual(first.length, 1);
      const health = gate.health();
      assert.deepStrictEqual(health, {
        state: 'healthy', durable: true, cluster: false, connected: false, laterWaiting: 1,
        troubles: 0, lastTrouble: '', lastTroubleUnixMs: 0
      });
      gate.close();
      assert.throws(() => gate.health(), CovgateError);
    }
    {
      const gate = new Gate(config, dir);
      const again = gate.poll();
      assert.strictEqual(again.length, 1);
      assert.strictEqual(again[0].sequence, first[0].sequence);
      assert.ok(again[0].body.equals(first[0].body));
      assert.strictEqual(gate.ack(again[0].sequence), true);
      gate.close();
    }
    {
      const gate = new Gate(config, dir);
      assert.deepStrictEqual(gate.poll(), []);
      gate.close();
      assert.throws(() => gate.submit('x'), CovgateError);
    }
    assert.throws(() => new Gate({stor: {}}), /\/stor: unknown setting/);
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
});
