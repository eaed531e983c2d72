#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "covgate/model/date.hpp"

namespace covgate::app {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

options parse_arguments(int argc, char** argv) {
  if (argc < 2) throw usage_error{"missing command"};
  options o;
  o.command = argv[1];
  if (o.command == "--help" || o.command == "-h" || o.command == "help") {
    o.command = "help";
    if (argc > 2) {
      o.help_topic = argv[2];
      if (!known_command(o.help_topic)) throw usage_error{"no command '" + o.help_topic + "'"};
    }
    return o;
  }
  if (o.command == "--version" || o.command == "-V" || o.command == "version") {
    o.command = "version";
    return o;
  }
  if (!known_command(o.command)) throw usage_error{"unknown command '" + o.command + "'"};
  o.time_ms = now_ms();
  const bool replay = o.command == "replay";
  const bool serve = o.command == "serve";
  bool standard_input = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw usage_error{std::string(arg) + " needs a value"};
      return argv[++i];
    };
    const bool reads = !serve;
    if (arg == "--help" || arg == "-h") {
      // Whatever else is on the line: the user asked what the command takes.
      o.help_topic = o.command;
      o.command = "help";
      return o;
    }
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
    } else if (arg == "--config" && (serve || o.command == "route")) {
      o.config = value();
    } else if (arg == "--print-config" && serve) {
      o.print_config = true;
    } else if (arg == "--check-config" && serve) {
      o.check_config = true;
    } else if (arg == "--print-nats-mapping" && serve) {
      o.print_nats_mapping = true;
    } else if (arg == "--log-format" && serve) {
      const auto format = server::parse_log_format(value());
      if (!format) throw usage_error{"--log-format takes json or text"};
      o.log_format = *format;
    } else if (arg == "--log-level" && serve) {
      const auto level = server::parse_log_level(value());
      if (!level) throw usage_error{"--log-level takes debug, info, warn or error"};
      o.log_level = *level;
    } else if (arg == "--progress" && replay) {
      o.progress = true;
    } else if (arg == "--no-progress" && replay) {
      o.progress = false;
    } else if (arg == "--read-threads" && replay) {
      const auto v = value();
      unsigned n = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc{} || end != v.data() + v.size() || n > max_read_threads) {
        throw usage_error{"--read-threads takes a number from 0 to " +
                          std::to_string(max_read_threads)};
      }
      o.read_threads = n;
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
    } else if (arg == "--identity" && o.command == "route") {
      o.identities.push_back(value());
      if (o.identities.back().empty()) throw usage_error{"--identity takes a non-empty ID"};
    } else if (arg == "--profile" && replay) {
      const auto v = value();
      if (v == "277") {
        o.profile = x12::status_profile::notification_x212;
      } else if (v == "277ca") {
        o.profile = x12::status_profile::acknowledgment_x214;
      } else {
        throw usage_error{"--profile takes 277 or 277ca"};
      }
    } else if (arg.starts_with("-") && arg != "-") {
      throw usage_error{"unknown option " + std::string(arg) + " for " + o.command};
    } else {
      if (arg == "-") {
        if (serve) throw usage_error{"serve takes no PATH"};
        if (standard_input) throw usage_error{"'-' (standard input) may be given once"};
        standard_input = true;
      }
      o.paths.emplace_back(arg);
    }
  }
  if (serve) {
    if (!o.paths.empty()) throw usage_error{"serve takes no PATH"};
    if (int{o.print_config} + int{o.check_config} + int{o.print_nats_mapping} > 1) {
      throw usage_error{"--print-config, --check-config and --print-nats-mapping go one at a time"};
    }
  } else if (o.command == "audit") {
    if (o.store.empty() == o.paths.empty()) {
      throw usage_error{"audit takes --store DIR or PATH..., one of them"};
    }
  } else if (o.command == "route") {
    if (o.config.empty()) throw usage_error{"route needs --config FILE (the cluster's secret)"};
    if (o.paths.empty() && o.identities.empty()) {
      throw usage_error{"route takes PATH... or --identity ID"};
    }
  } else if (o.paths.empty()) {
    throw usage_error{"no input PATH"};
  }
  return o;
}

}  // namespace covgate::app
