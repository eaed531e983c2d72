'use strict';
// The "covgate" node: each message in (msg.payload: an X12 837, a FHIR resource or Bundle, an
// HL7 v2 message; a Buffer, a string or a parsed JSON object) goes through covgate and comes
// out of output 1 with covgate's answer as msg.payload (the 277 or 999/TA1, the
// OperationOutcome, the HL7 ACK) and msg.covgate (disposition, decisions, findings). Later
// answers (held claims released by later facts, reopenings) come out of output 2 as their
// 277s, checked for after every message and every `interval` ms, and are acknowledged once
// sent on. One gate per node; its state is in memory unless the configuration names a store
// directory (one Node-RED process per directory).
const {Gate} = require('./lib/covgate');

module.exports = function (RED) {
  function CovgateNode(n) {
    RED.nodes.createNode(this, n);
    const node = this;
    let settings = null;
    try {
      settings = n.config && n.config.trim() ? JSON.parse(n.config) : null;
      node.gate = new Gate(settings, n.baseDir || null);
    } catch (e) {
      node.error(`covgate: ${e.message}`);
      node.status({fill: 'red', shape: 'ring', text: 'not open'});
      return;
    }
    const source = `node-red:${node.id}`;

    // The node's status in the editor follows the gate's health (a cluster's connection, the
    // delivery of its releases, the store), set again only when it changes.
    let shown = '';
    function showHealth() {
      let h;
      try {
        h = node.gate.health();
      } catch (e) {
        return;  // an older library without covgate_get_health: no status, the rest works
      }
      const why = h.cluster && !h.connected ? 'not connected' : h.lastTrouble.slice(0, 80);
      const text = h.state === 'healthy' ? 'healthy' : `${h.state}${why ? ': ' + why : ''}`;
      if (text === shown) return;
      shown = text;
      const fill = {healthy: 'green', degraded: 'yellow'}[h.state] || 'red';
      node.status({fill, shape: h.state === 'healthy' ? 'dot' : 'ring', text});
    }

    function drain() {
      if (!node.gate) return;
      showHealth();
      try {
        for (const later of node.gate.poll()) {
          node.send([null, {
            payload: later.body.toString('utf8'),
            contentType: later.contentType,
            covgate: {
              disposition: later.disposition, event: later.event, key: later.key,
              decisions: later.decisions
            }
          }]);
          node.gate.ack(later.sequence);  // handed to the flow: forwarded as far as we can tell
        }
      } catch (e) {
        node.error(`covgate: ${e.message}`);
      }
    }

    node.on('input', (msg, send, done) => {
      try {
        let data = msg.payload;
        if (!Buffer.isBuffer(data) && typeof data === 'object' && data !== null) {
          data = JSON.stringify(data);  // an http in node parsed the JSON body
        }
        const hint = msg.contentType ||
          (msg.req && msg.req.headers && msg.req.headers['content-type']) || null;
        const a = node.gate.submit(data, hint, source);
        msg.payload = a.body.toString('utf8');
        msg.contentType = a.contentType;
        msg.covgate = {
          disposition: a.disposition, decisions: a.decisions, findings: a.findings,
          claims: a.claims, facts: a.facts, flags: a.flags
        };
        send([msg, null]);
        drain();
        done();
      } catch (e) {
        done(e);
      }
    });

    const timer = setInterval(drain, Math.max(50, Number(n.interval) || 1000));
    node.on('close', (done) => {
      clearInterval(timer);
      try {
        if (node.gate) node.gate.close();
      } catch (e) {
        node.error(`covgate: ${e.message}`);
      }
      node.gate = null;
      done();
    });
  }
  RED.nodes.registerType('covgate', CovgateNode);
};
