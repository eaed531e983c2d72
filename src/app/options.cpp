#include "options.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>

#include "covgate/model/date.hpp"

namespace covgate::app {
namespace {

constexpr std::string_view usage =
    "usage: covgate replay [options] [--store DIR] [--profile 277|277ca] [--out FILE]\n"
    "                      [--fhir-out FILE] [--hl7-out FILE] [--decisions FILE] PATH...\n"
    "       covgate serve --config FILE [--mappings DIR]\n"
    "       covgate check [options] PATH...\n"
    "       covgate parse [options] PATH...\n"
    "       covgate audit [--as-of YYYY-MM-DD] [--format csv|html] [--out FILE]\n"
    "                     (--store DIR | [options] PATH...)\n"
    "\n"
    "  replay  run the gate over claims (X12 837) and clinical data (FHIR, HL7 v2) in file\n"
    "          order: every claim is answered with a 277 (hold or release) on --out (default\n"
    "          stdout), later releases get their own 277, rejected X12 its 999/TA1; FHIR\n"
    "          OperationOutcomes go to --fhir-out and HL7 v2 ACKs to --hl7-out when given.\n"
    "          --decisions writes one JSON line per outcome change; --store DIR keeps the\n"
    "          state (held claims, facts, control numbers) in the SQLite store serve uses, so\n"
    "          runs continue each other. Exit 0 when every input was processed (holds are not\n"
    "          errors), 1 when any was rejected or skipped.\n"
    "  serve   run the MLLP and HTTP listeners with a durable store and an outbox, as\n"
    "          configured in FILE (docs: README.md). Prints the bound addresses, then runs\n"
    "          until SIGTERM or SIGINT (stops accepting, finishes in-flight messages).\n"
    "  check   validate X12 837 and FHIR R4 (JSON, XML, NDJSON) input; print the 999/TA1\n"
    "          acknowledgments or the OperationOutcome to stdout and one line per finding to\n"
    "          stderr. Exit 0 when every input was accepted, 1 when any part was rejected,\n"
    "          2 for usage or configuration errors.\n"
    "  parse   print the claims of accepted X12 transaction sets and the facts read from FHIR\n"
    "          as JSON Lines (facts whose Patient never arrived come last, patient_key null).\n"
    "  audit   the CSII documentation audit: one row per patient with an insulin-pump claim\n"
    "          (insulinopenia documented, a physician visit within 3 months, NPP visits only,\n"
    "          the evidence), over a store (--store DIR, e.g. serve's store.directory) or over\n"
    "          files replayed in memory (PATH...), on --as-of (default today, UTC). CSV (the\n"
    "          default) or HTML with the summary views for heparin, liver chemotherapy and\n"
    "          implantable pumps, to --out (default stdout).\n"
    "\n"
    "options:\n"
    "  --envelope-counts strict|warn  wrong SE01/GE01/IEA01 counts reject (strict, default)\n"
    "                                 or are accepted with the error noted (warn)\n"
    "  --lenient NAME,...             read what public sample files need beyond the 837\n"
    "                                 guides, noted instead of rejected: hl-chain, hi-split,\n"
    "                                 clm05, rd8-single-date, segment-repeats, isa11-letter,\n"
    "                                 counts, or all (README: what the X12 reader does)\n"
    "  --ack-time CCYYMMDDHHMM        timestamp of the answers (default: now, UTC)\n"
    "  --mappings DIR                 code tables to use instead of the built-in mappings/\n"
    "  --profile 277|277ca            replay: 277 notification with P categories (default)\n"
    "                                 or strict 277CA with A categories only\n"
    "PATH may be a file or a folder (read recursively, in name order). A file's first bytes\n"
    "say what it is: ISA (X12), { or < (FHIR), MSH/FHS/BHS (HL7 v2), 0x0B (MLLP frames);\n"
    "anything else is reported and skipped.\n";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string_view usage_text() noexcept { return usage; }

options parse_arguments(int argc, char** argv) {
  if (argc < 2) throw usage_error{"missing command"};
  options o;
  o.command = argv[1];
  if (o.command == "--help" || o.command == "-h" || o.command == "help") {
    std::cout << usage;
    std::exit(0);
  }
  if (o.command != "check" && o.command != "parse" && o.command != "replay" &&
      o.command != "serve" && o.command != "audit") {
    throw usage_error{"unknown command '" + o.command + "'"};
  }
  o.time_ms = now_ms();
  const bool replay = o.command == "replay";
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw usage_error{std::string(arg) + " needs a value"};
      return argv[++i];
    };
    const bool reads = o.command != "serve";
    if (arg == "--envelope-counts" && reads) {
      const auto v = value();
      if (v == "strict") {
        o.reader.envelope_counts = x12::count_policy::strict;
      } else if (v == "warn") {
        o.reader.envelope_counts = x12::count_policy::warn;
      } else {
        throw usage_error{"--envelope-counts takes strict or warn"};
      }
    } else if (arg == "--lenient" && reads) {
      std::string unknown;
      const auto lenient = x12::parse_leniency(value(), &unknown);
      if (!lenient) throw usage_error{"--lenient: unknown switch '" + unknown + "'"};
      o.reader.lenient = *lenient;
    } else if (arg == "--ack-time" && (replay || o.command == "check")) {
      const auto ms = model::unix_ms_of_stamp(value());
      if (!ms) throw usage_error{"--ack-time takes CCYYMMDDHHMM"};
      o.time_ms = *ms;
    } else if (arg == "--mappings") {
      o.mappings = value();
    } else if (arg == "--config" && o.command == "serve") {
      o.config = value();
    } else if (arg == "--out" && replay) {
      o.out = value();
    } else if (arg == "--fhir-out" && replay) {
      o.fhir_out = value();
    } else if (arg == "--hl7-out" && replay) {
      o.hl7_out = value();
    } else if (arg == "--decisions" && replay) {
      o.decisions = value();
    } else if (arg == "--store" && (replay || o.command == "audit")) {
      o.store = value();
    } else if (arg == "--as-of" && o.command == "audit") {
      o.as_of = value();
      if (!model::parse_iso_date(o.as_of)) throw usage_error{"--as-of takes YYYY-MM-DD"};
    } else if (arg == "--format" && o.command == "audit") {
      o.format = value();
      if (o.format != "csv" && o.format != "html") throw usage_error{"--format takes csv or html"};
    } else if (arg == "--out" && o.command == "audit") {
      o.out = value();
    } else if (arg == "--profile" && replay) {
      const auto v = value();
      if (v == "277") {
        o.profile = x12::status_profile::notification_x212;
      } else if (v == "277ca") {
        o.profile = x12::status_profile::acknowledgment_x214;
      } else {
        throw usage_error{"--profile takes 277 or 277ca"};
      }
    } else if (arg.starts_with("--")) {
      throw usage_error{"unknown option " + std::string(arg)};
    } else {
      o.paths.emplace_back(arg);
    }
  }
  if (o.command == "serve") {
    if (o.config.empty()) throw usage_error{"serve needs --config FILE"};
    if (!o.paths.empty()) throw usage_error{"serve takes no PATH"};
  } else if (o.command == "audit") {
    if (o.store.empty() == o.paths.empty()) {
      throw usage_error{"audit takes --store DIR or PATH..., one of them"};
    }
  } else if (o.paths.empty()) {
    throw usage_error{"no input PATH"};
  }
  return o;
}

}  // namespace covgate::app
