// Drain channel, source: JavaScript Reader (polling every 1000 ms, data type Raw). Each later
// answer waiting in covgate (a held claim released by a later lab, a reopening) becomes a
// message of this channel; its destination (HTTP Sender, File Writer, LLP Sender, named
// "forward") sends the 277 on, and drain-postprocessor.js acknowledges it once sent.
var out = new java.util.ArrayList();
var gate = globalMap.get('covgate');
if (gate == null) return out;
var later = gate.poll();
for (var i = 0; i < later.size(); i++) {
  var a = later.get(i);
  var map = new java.util.HashMap();
  map.put('covgateSequence', java.lang.Long.valueOf(a.sequence));
  // NPI_CLM01-sequence (the billing NPI, '_', the 277's REF*1K; REF*1K alone without a
  // billing NPI): the idempotency key, for idempotent receivers
  map.put('covgateKey', a.key);
  map.put('covgateEvent', a.event);
  out.add(new RawMessage(a.bodyText(), null, map));
}
return out;
