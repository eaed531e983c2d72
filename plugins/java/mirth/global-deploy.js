// Mirth Connect / Open Integration Engine: Global Scripts → Deploy.
// Opens one covgate gate for the server and keeps it in globalMap, shared by the inbound
// channel (gate-writer.js) and the drain channel (drain-reader.js, drain-postprocessor.js).
// Settings come from the Configuration Map: covgate.config (the text of covgate.json; empty =
// every default, state in memory) and covgate.baseDir (resolves relative paths in it).
// org.covgate.Gate and JNA come from custom-lib (see plugins/java/README.md).
if (globalMap.get('covgate') == null) {
  var config = configurationMap.get('covgate.config');
  var baseDir = configurationMap.get('covgate.baseDir');
  globalMap.put('covgate', new Packages.org.covgate.Gate(
      config == null || String(config) == '' ? null : String(config),
      baseDir == null || String(baseDir) == '' ? null : String(baseDir)));
  logger.info('covgate ' + Packages.org.covgate.Gate.version() + ' opened');
}
return;
