// Drain channel: Postprocessor script. Acknowledges the later answer once the "forward"
// destination sent it; otherwise has every unacknowledged one handed out again at the next
// poll (at-least-once: the receiver drops repeats by covgateKey, the idempotency key
// NPI_CLM01-sequence).
var gate = globalMap.get('covgate');
var sequence = sourceMap.get('covgateSequence');
if (gate != null && sequence != null) {
  var sent = $r('forward');
  if (sent != null && String(sent.getStatus()) == 'SENT') {
    gate.ack(sequence);
  } else {
    gate.redeliver();
  }
}
return;
