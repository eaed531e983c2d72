// The usage text and each command's help (`covgate help CMD`, `covgate CMD --help`). The
// man page (packaging/covgate.1) and README.md say the same in more words.
#include <array>

#include "options.hpp"

namespace covgate::app {
namespace {

struct command_help {
  std::string_view name;
  std::string_view text;
};

constexpr std::string_view reader_options =
    "  --envelope-counts strict|warn  wrong SE01/GE01/IEA01 counts reject (strict, default)\n"
    "                                 or are accepted with the error noted (warn)\n"
    "  --lenient NAME,...             readings beyond the 837 guides, noted instead of\n"
    "                                 rejected: hl-chain, hi-split, clm05, rd8-single-date,\n"
    "                                 segment-repeats, isa11-letter, counts, or all\n"
    "  --mappings DIR                 code tables to use instead of the built-in mappings/\n";

constexpr std::string_view paths_text =
    "PATH is a file or a folder (read recursively, in name order); '-' reads standard input.\n"
    "A file's first bytes say what it is: ISA (X12), { or < (FHIR), MSH/FHS/BHS (HL7 v2),\n"
    "0x0B (MLLP frames); anything else is reported on stderr and skipped.\n";

constexpr std::string_view exit_text =
    "Exit status: 0 every input was processed (holds are not errors); 1 something was\n"
    "rejected, not recognized or skipped; 2 a usage, configuration or start-up error.\n";

const std::array<command_help, 6>& commands() {
  static const std::string replay =
      std::string(
          "usage: covgate replay [options] PATH...\n"
          "\n"
          "Runs the gate over claims (X12 837) and clinical data (FHIR R4, HL7 v2) in file\n"
          "order, keeping facts and held claims across every input. Each claim is answered\n"
          "with a 277 (hold or release); a later release gets a 277 of its own after the\n"
          "message that caused it; refused X12 gets its 999/TA1. A summary (claims per\n"
          "outcome, held claims per reason, time, throughput, where answers went) goes to\n"
          "stderr.\n"
          "\n"
          "options:\n"
          "  --out FILE                     X12 answers: 277s, 999/TA1 (default: stdout, '-')\n"
          "  --fhir-out FILE                FHIR OperationOutcomes, a JSON line each\n"
          "  --hl7-out FILE                 HL7 v2 ACKs, each on a line of its own\n"
          "  --decisions FILE               one JSON line per outcome change\n"
          "  --store DIR                    keep the state in DIR/covgate.db, the store serve\n"
          "                                 uses: runs continue each other\n"
          "  --profile 277|277ca            277 notification with P categories (default), or\n"
          "                                 strict 277CA with A categories only\n"
          "  --progress, --no-progress      a progress line on stderr (files, MB, claims/s,\n"
          "                                 ETA); default: when stderr is a terminal\n"
          "  --read-threads N               NDJSON batches and X12 chunks read (parsed,\n"
          "                                 checked, mapped) ahead of the gate on N threads of\n"
          "                                 their own (X12 on one at a time); 0 reads them on\n"
          "                                 the gate's thread (default: the cores, at most 8;\n"
          "                                 0 on one core, and when a PATH is '-', so a live\n"
          "                                 feed is answered as it comes)\n"
          "  --ack-time CCYYMMDDHHMM        timestamp of the answers (default: now, UTC)\n") +
      std::string(reader_options) +
      "  -h, --help                     this help\n"
      "\n" +
      std::string(paths_text) + "\n" + std::string(exit_text);
  static const std::string serve =
      "usage: covgate serve [--config FILE] [--log-format json|text] [--log-level LEVEL]\n"
      "                     [--mappings DIR]\n"
      "       covgate serve [--config FILE] --print-config | --check-config |\n"
      "                     --print-nats-mapping\n"
      "\n"
      "Runs the MLLP and HTTP listeners with a durable SQLite store and an outbox. Without\n"
      "--config it runs on the built-in defaults: MLLP on 127.0.0.1:2575, HTTP on\n"
      "127.0.0.1:8080, the store in ./covgate-data. It prints the bound addresses on stdout,\n"
      "then logs one line per event on stderr (requests, messages, outbox deliveries, store\n"
      "failures; never patient data).\n"
      "\n"
      "options:\n"
      "  --config FILE           covgate.json (JSON with comments; every key is optional)\n"
      "  --print-config          print the configuration as a file to start from (the\n"
      "                          built-in defaults, or FILE's settings) and exit\n"
      "  --check-config          load the configuration and the files it names (TLS\n"
      "                          certificates, tokens), print \"configuration OK\" and exit\n"
      "  --print-nats-mapping    print the subject mapping every nats-server node of the\n"
      "                          cluster needs for cluster.partitions, and exit\n"
      "  --log-format json|text  log lines as JSON objects (default) or text for people\n"
      "  --log-level LEVEL       debug, info (default), warn or error\n"
      "  --mappings DIR          code tables to use instead of the built-in mappings/\n"
      "  -h, --help              this help\n"
      "\n"
      "signals: SIGTERM, SIGINT  stop accepting, finish in-flight messages, exit 0\n"
      "         SIGHUP           read FILE again and apply its bearer tokens and outbox\n"
      "                          destinations (other settings take effect at a restart)\n"
      "\n"
      "HTTP: POST /x12, POST /hl7v2, /fhir, GET /claims, GET /claims/{id},\n"
      "POST /claims/{id}/release|cancel, GET /outbox?state=dead, POST /outbox/{id}/retry,\n"
      "GET /metrics, /healthz, /readyz. One server per store directory (a lock file).\n"
      "Exit status: 0 after a signal; 2 a usage, configuration or start-up error.\n";
  static const std::string check =
      "usage: covgate check [options] PATH...\n"
      "\n"
      "Validates X12 837, FHIR R4 (JSON, XML, NDJSON) and HL7 v2 input by its reader, without\n"
      "the gate, and prints the answers its standard defines to stdout: the 999 (and TA1)\n"
      "of each interchange, an OperationOutcome per FHIR file, each HL7 v2 message's ACK.\n"
      "One line per finding goes to stderr, naming positions and codes, never data values.\n"
      "\n"
      "options:\n"
      "  --ack-time CCYYMMDDHHMM        timestamp of the answers (default: now, UTC)\n" +
      std::string(reader_options) +
      "  -h, --help                     this help\n"
      "\n" +
      std::string(paths_text) + "\n" + std::string(exit_text);
  static const std::string parse =
      "usage: covgate parse [options] PATH...\n"
      "\n"
      "Prints the claims of accepted X12 transaction sets and the facts read from FHIR and\n"
      "HL7 v2 as JSON Lines on stdout (facts whose Patient never arrived come last, with\n"
      "patient_key null); why input was refused goes to stderr.\n"
      "\n"
      "options:\n" +
      std::string(reader_options) +
      "  -h, --help                     this help\n"
      "\n" +
      std::string(paths_text) + "\n" + std::string(exit_text);
  static const std::string audit =
      "usage: covgate audit [--as-of YYYY-MM-DD] [--format csv|html] [--out FILE] --store DIR\n"
      "       covgate audit [--as-of YYYY-MM-DD] [--format csv|html] [--out FILE] [options]\n"
      "                     PATH...\n"
      "\n"
      "The CSII documentation audit: one row per patient with an insulin-pump claim\n"
      "(insulinopenia documented, a physician visit within 3 months, NPP visits only, the\n"
      "evidence), over a store (--store DIR, e.g. serve's store.directory) or over files\n"
      "replayed in memory (PATH...). CSV (the default) or HTML with the summary views for\n"
      "heparin, liver chemotherapy and implantable pumps.\n"
      "\n"
      "options:\n"
      "  --as-of YYYY-MM-DD             the audit's day (default: today, UTC)\n"
      "  --format csv|html              CSV (default) or an HTML page\n"
      "  --out FILE                     where the report goes (default: stdout)\n"
      "  --store DIR                    read the store in DIR instead of PATH...\n" +
      std::string(reader_options) +
      "  -h, --help                     this help\n"
      "\n" +
      std::string(paths_text) + "\n" + std::string(exit_text);
  static const std::string route =
      "usage: covgate route --config FILE [--identity ID]... [--mappings DIR] [PATH...]\n"
      "\n"
      "Where a cluster front would send each message in PATH (each file read as one HTTP\n"
      "body), with nothing published: one JSON line per part, naming its route (partition,\n"
      "identity, reference, front, or refused and why), its partition and patient token, or\n"
      "the identity token it waits on (the CG_WAIT subjects), and the identity tokens of the\n"
      "Patients it links. --identity ID prints the token of a local identity typed by hand\n"
      "(\"Patient/123\"). Patients and identities are shown only as their keyed tokens; the\n"
      "secret comes from the variable cluster.key_secret_env names in FILE, and\n"
      "cluster.partitions, the readers' limits and http.body_limit from FILE too.\n"
      "\n"
      "options:\n"
      "  --config FILE                  covgate.json of the cluster's front or workers\n"
      "  --identity ID                  a local identity to print the token of (repeatable)\n"
      "  --mappings DIR                 code tables to use instead of the configuration's\n"
      "  -h, --help                     this help\n"
      "\n"
      "Exit status: 0 every file was planned (a message a front answers alone, as one its\n"
      "reader rejects, is route \"front\"); 1 a file was skipped, or a front would refuse to\n"
      "route it (route \"refused\"); 2 a usage or configuration error (no secret).\n";
  static const std::array<command_help, 6> all = {
      command_help{"replay", replay}, command_help{"serve", serve}, command_help{"check", check},
      command_help{"parse", parse},   command_help{"audit", audit}, command_help{"route", route}};
  return all;
}

constexpr std::string_view usage =
    "usage: covgate replay [options] PATH...\n"
    "       covgate serve [--config FILE] [--print-config | --check-config]\n"
    "       covgate check [options] PATH...\n"
    "       covgate parse [options] PATH...\n"
    "       covgate audit [--as-of DATE] [--format csv|html] [--out FILE]\n"
    "                     (--store DIR | PATH...)\n"
    "       covgate route --config FILE [--identity ID]... [PATH...]\n"
    "       covgate help [COMMAND]\n"
    "       covgate --version\n"
    "\n"
    "  replay  run the gate over claims (X12 837) and clinical data (FHIR, HL7 v2) in file\n"
    "          order: every claim answered with a 277 (hold or release)\n"
    "  serve   run the MLLP and HTTP listeners with a durable store and an outbox (built-in\n"
    "          defaults without --config)\n"
    "  check   validate X12 837, FHIR R4 and HL7 v2 input; print the 999/TA1,\n"
    "          OperationOutcome or ACK of each\n"
    "  parse   print the claims and facts read from input as JSON Lines\n"
    "  audit   the CSII documentation audit, one row per patient with an insulin-pump claim\n"
    "  route   where a cluster front would send each message, by partition or identity token\n"
    "  help    print a command's help: covgate help COMMAND (or covgate COMMAND --help)\n"
    "\n"
    "PATH may be a file, a folder (read recursively, in name order) or '-' (standard input).\n"
    "README.md and covgate(1) describe every command, option and configuration key.\n";

}  // namespace

std::string_view usage_text() noexcept { return usage; }

bool known_command(std::string_view name) noexcept {
  for (const auto& c : commands()) {
    if (c.name == name) return true;
  }
  return false;
}

std::string_view command_help_text(std::string_view name) noexcept {
  for (const auto& c : commands()) {
    if (c.name == name) return c.text;
  }
  return usage;
}

}  // namespace covgate::app
