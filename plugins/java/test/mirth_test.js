// The Mirth channel scripts of plugins/java/mirth run under Rhino (Mirth's JavaScript engine)
// against org.covgate.Gate, with the few Mirth objects they use stood in for: a server's
// life (global deploy), scenario 02 through the inbound channel's writer (record accepted,
// claim held with its 277 as the response, labs accepted), the drain channel picking up the
// later release, a failed forward handing it out again, a sent one acknowledging it, and
// the global undeploy closing the gate. Usage: rhino mirth_test.js ROOT
var root = arguments[0];
var passed = 0, failed = 0;
function check(ok, what) {
  if (ok) { passed++; } else { failed++; print('FAIL: ' + what); }
}
function script(name) {  // as Mirth runs a script: the body of a function
  var text = readFile(root + '/plugins/java/mirth/' + name);
  return new Function(text);
}

// Mirth's objects, as far as the scripts use them.
var globalMap = new java.util.concurrent.ConcurrentHashMap();
var configurationMap = new java.util.HashMap();
var channelMap, sourceMap, connectorMessage, channelName, responses;
var logger = {info: function (m) { print('logger.info: ' + m); }};
var ResponseFactory = {
  getSentResponse: function (m) { return {status: 'SENT', message: m}; },
  getErrorResponse: function (m) { return {status: 'ERROR', message: m}; }
};
function RawMessage(text, destinations, map) { this.text = text; this.sourceMap = map; }
function $r(name) { return responses[name]; }

var deploy = script('global-deploy.js'), undeploy = script('global-undeploy.js');
var writer = script('gate-writer.js'), reader = script('drain-reader.js');
var post = script('drain-postprocessor.js');

function inbound(path) {  // one message through the inbound channel
  var bytes = java.nio.file.Files.readAllBytes(java.nio.file.Paths.get(path));
  var raw = new java.lang.String(bytes, 'ISO-8859-1');
  channelMap = new java.util.HashMap();
  channelName = 'covgate-in';
  connectorMessage = {getRawData: function () { return raw; }};
  return writer();
}
function drain(status) {  // one poll of the drain channel; each message "forwarded" with status
  channelName = 'covgate-drain';
  var messages = reader();
  for (var i = 0; i < messages.size(); i++) {
    sourceMap = messages.get(i).sourceMap;
    responses = {forward: {getStatus: function () { return status; }}};
    post();
  }
  return messages;
}

var store = java.nio.file.Files.createTempDirectory('covgate-mirth').toString();
configurationMap.put('covgate.config', '{"store": {"directory": "state"}}');
configurationMap.put('covgate.baseDir', store);
deploy();
check(globalMap.get('covgate') != null, 'the global deploy script opens the gate');
deploy();  // a second deploy (another channel redeployed) keeps the same gate
var gate = globalMap.get('covgate');

var folder = root + '/samples/inputs/scenarios/02-csii-release-after-late-lab/';
var files = new java.io.File(folder).list();
java.util.Arrays.sort(files);
var record = inbound(folder + files[0]);
check(record.status == 'SENT' && String(channelMap.get('covgateDisposition')) == 'accepted',
      'the record is accepted: ' + channelMap);
check(String(record.message).indexOf('OperationOutcome') >= 0, 'FHIR gets an OperationOutcome');
var claim = inbound(folder + files[1]);
check(String(channelMap.get('covgateDisposition')) == 'hold', 'the claim is held');
check(String(claim.message).indexOf('ISA*') == 0 && String(claim.message).indexOf('STC*P3') > 0,
      'the sender gets the 277 (pended)');
check(String(channelMap.get('covgateDecisions')).indexOf('"source":"mirth:covgate-in:2:') > 0,
      'the decision names the channel: ' + channelMap.get('covgateDecisions'));
check(drain('SENT').size() == 0, 'nothing to drain before the labs');
inbound(folder + files[2]);
check(String(channelMap.get('covgateDisposition')) == 'accepted', 'the labs are accepted');

var failedForward = drain('ERROR');
check(failedForward.size() == 1, 'the drain channel picks up the release');
var m = failedForward.get(0);
check(String(m.sourceMap.get('covgateKey')) == '1999999984_CSII-LATE-2' &&
      String(m.sourceMap.get('covgateEvent')) == 'release', 'its key and event');
check(m.text.indexOf('REF*1K*CSII-LATE-2~') > 0, 'the later 277 with REF*1K');
var again = drain('SENT');
check(again.size() == 1 && again.get(0).text == m.text, 'a failed forward is handed out again');
check(drain('SENT').size() == 0, 'a sent one is acknowledged');

var junk = (function () {
  channelMap = new java.util.HashMap();
  connectorMessage = {getRawData: function () { return 'hello, not a claim'; }};
  return writer();
})();
check(junk.status == 'ERROR', 'bytes of no kind are an error response: ' + junk.message);

undeploy();
check(globalMap.get('covgate') == null, 'the global undeploy script closes the gate');
check(new java.io.File(store + '/state/covgate.db').exists(), 'the durable store');
print(passed + ' passed, ' + failed + ' failed');
java.lang.System.exit(failed == 0 ? 0 : 1);
