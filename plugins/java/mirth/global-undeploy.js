// Mirth Connect / Open Integration Engine: Global Scripts → Undeploy.
// Closes the gate (flushes a durable store). Runs after every channel stopped, so no other
// call races with close.
var gate = globalMap.get('covgate');
if (gate != null) {
  globalMap.remove('covgate');
  gate.close();
}
return;
