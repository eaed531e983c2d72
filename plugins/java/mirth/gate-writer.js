// Inbound channel (source: MLLP Listener or HTTP Listener, data type Raw; Source → Response:
// "covgate"): the JavaScript Writer destination named "covgate". Submits the message as it
// arrived and returns covgate's answer (the 277 or 999/TA1, the OperationOutcome, the HL7
// ACK) as the destination's response, which the source sends back to the sender.
var gate = globalMap.get('covgate');
if (gate == null) {
  return ResponseFactory.getErrorResponse('covgate is not open (Global Deploy script)');
}
var answer = gate.submitText(String(connectorMessage.getRawData()), null,
                             'mirth:' + channelName);
channelMap.put('covgateDisposition', answer.disposition);
channelMap.put('covgateContentType', answer.contentType);
channelMap.put('covgateDecisions', String(answer.decisions));
if (!answer.findings.isEmpty()) channelMap.put('covgateFindings', String(answer.findings));
// A rejected message is still answered (its body says why); an empty body means the bytes
// were no kind covgate reads.
if (answer.body.length == 0) {
  return ResponseFactory.getErrorResponse('not X12, FHIR or HL7 v2: ' + answer.findings);
}
return ResponseFactory.getSentResponse(answer.bodyText());
