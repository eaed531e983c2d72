// The covgate command line: `check` validates X12 and FHIR input and prints the answer each
// standard defines (999/TA1, OperationOutcome); `parse` prints the normalized claims and facts
// as JSON Lines.
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "covgate/engine/gate.hpp"
#include "covgate/fhir/linker.hpp"
#include "covgate/fhir/reader.hpp"
#include "covgate/mapping/tables.hpp"
#include "covgate/model/claim_json.hpp"
#include "covgate/model/decision_json.hpp"
#include "covgate/model/fact_json.hpp"
#include "covgate/policy/policy.hpp"
#include "covgate/store/memory_store.hpp"
#include "covgate/transport/servers.hpp"
#include "covgate/x12/ack_writer.hpp"
#include "covgate/x12/interchange_reader.hpp"
#include "covgate/x12/status_writer.hpp"

namespace fs = std::filesystem;
using namespace covgate;

namespace {

constexpr std::string_view usage_text =
    "usage: covgate replay [options] [--profile 277|277ca] [--out FILE] [--decisions FILE] "
    "PATH...\n"
    "       covgate serve --config FILE\n"
    "       covgate check [options] PATH...\n"
    "       covgate parse [options] PATH...\n"
    "\n"
    "  replay  run the gate over claims (X12 837) and clinical data (FHIR) in file order:\n"
    "          every claim is answered with a 277 (hold or release) on --out (default\n"
    "          stdout), later releases get their own 277, rejected input its 999/TA1;\n"
    "          --decisions writes one JSON line per outcome change. Exit 0 when every\n"
    "          input was processed (holds are not errors), 1 when any was rejected.\n"
    "  serve   run the MLLP and HTTP listeners with a durable store and an outbox, as\n"
    "          configured in FILE (docs: README.md). Prints the bound addresses, then runs\n"
    "          until SIGTERM or SIGINT (stops accepting, finishes in-flight messages).\n"
    "  check   validate X12 837 and FHIR R4 (JSON, XML, NDJSON) input; print the 999/TA1\n"
    "          acknowledgments or the OperationOutcome to stdout and one line per finding to\n"
    "          stderr. Exit 0 when every input was accepted, 1 when any part was rejected,\n"
    "          2 for usage or configuration errors.\n"
    "  parse   print the claims of accepted X12 transaction sets and the facts read from FHIR\n"
    "          as JSON Lines (facts whose Patient never arrived come last, patient_key null).\n"
    "\n"
    "options:\n"
    "  --envelope-counts strict|warn  wrong SE01/GE01/IEA01 counts reject (strict, default)\n"
    "                                 or are accepted with the error noted (warn)\n"
    "  --lenient NAME,...             read what public sample files need beyond the 837\n"
    "                                 guides, noted instead of rejected: hl-chain, hi-split,\n"
    "                                 clm05, rd8-single-date, segment-repeats, isa11-letter,\n"
    "                                 counts, or all (README: what the X12 reader does)\n"
    "  --ack-time CCYYMMDDHHMM        timestamp of the acknowledgments (default: now, UTC)\n"
    "  --mappings DIR                 code tables to use instead of the built-in mappings/\n"
    "  --profile 277|277ca            replay: 277 notification with P categories (default)\n"
    "                                 or strict 277CA with A categories only\n"
    "  --out FILE, --decisions FILE   replay: where the 277s and the decision lines go\n"
    "PATH may be a file or a folder (read recursively, in name order).\n";

struct usage_error {
  std::string message;
};

struct options {
  std::string command;
  std::vector<fs::path> paths;
  fs::path mappings;
  fs::path out;
  fs::path decisions;
  fs::path config;
  x12::status_profile profile = x12::status_profile::notification_x212;
  std::string stamp;  // CCYYMMDDHHMM
  x12::reader_options reader;
  x12::ack_settings ack;
};

std::string now_utc() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%Y%m%d%H%M", &utc);
  return buffer;
}

options parse_arguments(int argc, char** argv) {
  if (argc < 2) throw usage_error{"missing command"};
  options o;
  o.command = argv[1];
  if (o.command == "--help" || o.command == "-h" || o.command == "help") {
    std::cout << usage_text;
    std::exit(0);
  }
  if (o.command != "check" && o.command != "parse" && o.command != "replay" &&
      o.command != "serve") {
    throw usage_error{"unknown command '" + o.command + "'"};
  }
  std::string stamp = now_utc();
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw usage_error{std::string(arg) + " needs a value"};
      return argv[++i];
    };
    if (arg == "--envelope-counts") {
      const auto v = value();
      if (v == "strict") {
        o.reader.envelope_counts = x12::count_policy::strict;
      } else if (v == "warn") {
        o.reader.envelope_counts = x12::count_policy::warn;
      } else {
        throw usage_error{"--envelope-counts takes strict or warn"};
      }
    } else if (arg == "--lenient") {
      std::string unknown;
      const auto lenient = x12::parse_leniency(value(), &unknown);
      if (!lenient) throw usage_error{"--lenient: unknown switch '" + unknown + "'"};
      o.reader.lenient = *lenient;
    } else if (arg == "--ack-time") {
      stamp = value();
      if (stamp.size() != 12 ||
          !std::all_of(stamp.begin(), stamp.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw usage_error{"--ack-time takes CCYYMMDDHHMM"};
      }
    } else if (arg == "--mappings") {
      o.mappings = value();
    } else if (arg == "--config" && o.command == "serve") {
      o.config = value();
    } else if (arg == "--out" && o.command == "replay") {
      o.out = value();
    } else if (arg == "--decisions" && o.command == "replay") {
      o.decisions = value();
    } else if (arg == "--profile" && o.command == "replay") {
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
  } else if (o.paths.empty()) {
    throw usage_error{"no input PATH"};
  }
  o.ack.date = stamp.substr(2, 6);
  o.ack.time = stamp.substr(8, 4);
  o.stamp = stamp;
  return o;
}

std::vector<fs::path> expand(const std::vector<fs::path>& paths) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::recursive_directory_iterator(p, ec)) {
        if (entry.is_regular_file()) found.push_back(entry.path());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      files.push_back(p);
    } else {
      throw usage_error{"no such file or folder: " + p.string()};
    }
  }
  return files;
}

// Prefixes every line of `text` with "file: " (finding lines name their input).
std::string prefixed(const std::string& file, const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    out.append(file).append(": ").append(text, start, end - start + 1);
    start = end + 1;
  }
  return out;
}

// What both X12 sinks need: claims are handed over before their set's verdict, so keep them
// per set, carry the accepted sets' ones per group, and release them only when the whole
// interchange ended without rejecting their group (the strict reading of GE/IEA errors).
template <class Item>
class accepted_claims {
 public:
  void add(Item item) { set_items_.push_back(std::move(item)); }

  void set_end(const x12::set_result& set) {
    if (!set.rejected) {
      for (auto& item : set_items_) pending_.push_back({set.group_index, std::move(item)});
    }
    set_items_.clear();
  }

  /// Calls `on_accepted(item)` for every item whose set, group and interchange were accepted,
  /// and returns whether everything in the interchange was.
  template <class OnAccepted>
  bool interchange_end(const x12::interchange_result& result, OnAccepted&& on_accepted) {
    bool all = !result.rejected && result.any_accepted();
    for (const auto& g : result.groups) {
      if (g.rejected || g.accepted_sets() < g.sets.size()) all = false;
    }
    if (!result.rejected) {
      for (auto& [group, item] : pending_) {
        if (group < result.groups.size() && !result.groups[group].rejected) {
          on_accepted(std::move(item));
        }
      }
    }
    pending_.clear();
    return all;
  }

 private:
  std::vector<Item> set_items_;
  std::vector<std::pair<std::size_t, Item>> pending_;  // (group index, item)
};

// Collects what one input produced and decides what to print.
class input_sink final : public x12::reader_sink {
 public:
  input_sink(const options& o, std::uint32_t& ack_control)
      : options_(o), ack_control_(ack_control) {}

  void on_claim(const model::claim& claim) override {
    if (options_.command != "parse") return;
    std::string line;
    model::append_json(line, claim);
    claims_.add(std::move(line));
  }

  void on_set_end(const x12::set_result& set) override { claims_.set_end(set); }

  void on_interchange_end(const x12::interchange_result& result) override {
    if (options_.command == "check") {
      auto settings = options_.ack;
      settings.control = ack_control_++;
      std::cout << x12::write_acknowledgment(result, settings);
      std::cerr << prefixed(file_, x12::describe_findings(result));
    }
    const bool all =
        claims_.interchange_end(result, [](std::string line) { std::cout << line << '\n'; });
    rejected_ = rejected_ || !all;
  }

  void set_file(std::string name) { file_ = std::move(name); }
  [[nodiscard]] bool rejected() const noexcept { return rejected_; }

 private:
  const options& options_;
  std::uint32_t& ack_control_;
  std::string file_;
  accepted_claims<std::string> claims_;  // JSON lines (parse only)
  bool rejected_ = false;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::string text(static_cast<std::size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  return text;
}

mapping::tables load_tables(const options& o) {
  if (o.mappings.empty()) return mapping::tables::parse(mapping::embedded_sources());
  mapping::table_sources sources;
  const std::pair<const char*, std::string*> files[] = {
      {"loinc.json", &sources.loinc},       {"units.json", &sources.units},
      {"pos.json", &sources.pos},           {"bill-types.json", &sources.bill_types},
      {"taxonomy.json", &sources.taxonomy}, {"qualifications.json", &sources.qualifications},
      {"hcpcs.json", &sources.hcpcs},       {"icd10.json", &sources.icd10},
      {"evidence.json", &sources.evidence}, {"identity.json", &sources.identity}};
  for (const auto& [name, text] : files) *text = read_file(o.mappings / name);
  return mapping::tables::parse(sources);
}

// One stderr line per FHIR warning or error, naming where (FHIRPath), never a value.
void print_issues(const std::string& file, const fhir::read_result& result) {
  for (const auto& i : result.issues) {
    if (i.level == fhir::severity::information) continue;
    std::cerr << file << ": " << fhir::name(i.level) << " " << i.code << " at "
              << (i.expression.empty() ? std::string("(message)") : i.expression) << ": "
              << i.diagnostics << '\n';
  }
}

// Streams the rest of an X12 file through `reader` in chunks of `buffer`'s size, after the
// `head` already read: memory stays bounded for any file size.
void feed(x12::interchange_reader& reader, std::string_view head, std::istream& in,
          std::vector<char>& buffer) {
  reader.put(head);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    reader.put({buffer.data(), static_cast<std::size_t>(in.gcount())});
  }
  reader.finish();
}

// True when the first bytes look like FHIR (JSON or XML) rather than X12.
bool looks_like_fhir(std::string_view head) {
  if (head.substr(0, 3) == "\xEF\xBB\xBF") head.remove_prefix(3);
  const auto first = head.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && (head[first] == '{' || head[first] == '<');
}

class fhir_input {
 public:
  fhir_input(const options& o, const mapping::tables& tables)
      : options_(o), tables_(tables), linker_([this](model::fact&& f) { print(f); }) {}

  bool process(const fs::path& file, const std::string& text) {
    const auto result = fhir::read(text, fhir::sniff(text), tables_);
    if (options_.command == "check") {
      std::cout << fhir::operation_outcome_json(result) << '\n';
      print_issues(file.string(), result);
    } else if (!result.rejected) {
      for (const auto& f : result.facts) linker_.add(f);
    }
    return !result.has_errors();
  }

  void finish() {
    if (options_.command != "parse") return;
    const auto waiting = linker_.take_waiting();
    for (const auto& f : waiting) print(f);
    if (!waiting.empty()) {
      std::cerr << "note: " << waiting.size()
                << " facts name a Patient that never arrived (patient_key null)\n";
    }
  }

 private:
  void print(const model::fact& f) {
    std::string line;
    model::append_json(line, f);
    std::cout << line << '\n';
  }

  const options& options_;
  const mapping::tables& tables_;
  fhir::linker linker_;
};

// covgate replay: the whole gate over files, in order, with every answer written. Output
// goes through one buffer per answer, reused, so a million claims cost no per-claim strings
// beyond the ones the 277 and the decision line need.
class replay {
 public:
  replay(const options& o, const mapping::tables& tables, const policy::policy_file& policy,
         std::ostream& out, std::ostream* decisions)
      : options_(o),
        out_(out),
        decisions_(decisions),
        gate_(policy, tables, claims_,
              [this](engine::event&& e) { batch_.push_back(std::move(e)); }) {}

  /// The claims of one accepted transaction set, answered by one 277.
  void claims(std::vector<std::pair<model::claim, std::string>>& claims) {
    for (auto& [claim, source] : claims) gate_.on_claim(std::move(claim), source);
    claims.clear();
    flush();
  }

  void facts(std::vector<model::fact> facts, const std::string& source) {
    gate_.on_facts(std::move(facts), source);
    flush();  // later releases are their own 277
  }

  void acknowledgment(const std::string& text) { out_ << text; }

  void summary() const {
    const auto s = gate_.summary();
    std::cerr << "covgate replay: " << s.claims << " claims (" << s.duplicates << " duplicates, "
              << s.replacements << " replacements, " << s.voids << " voids), " << s.facts
              << " facts\n";
    for (const auto& [outcome, n] : s.by_outcome) std::cerr << "  " << outcome << ": " << n << '\n';
    for (const auto& [reason, n] : s.by_reason) std::cerr << "    " << reason << ": " << n << '\n';
  }

 private:
  void flush() {
    if (batch_.empty()) return;
    entries_.clear();
    traces_.clear();
    traces_.reserve(batch_.size());  // entries view these strings: no reallocation below
    decision_lines_.clear();
    for (const auto& e : batch_) {
      if (decisions_ && e.kind != "repeat") {
        model::append_json(decision_lines_, e.decision, e.kind, e.source);
        decision_lines_ += '\n';
      }
      traces_.push_back(e.trace());
      entries_.push_back({&e.claim, &e.decision, traces_.back()});
    }
    if (decisions_) *decisions_ << decision_lines_;
    x12::status_settings settings;
    settings.profile = options_.profile;
    settings.date = options_.stamp.substr(0, 8);
    settings.time = options_.stamp.substr(8, 4);
    settings.control = ++control_;
    out_ << x12::write_277(entries_, settings);
    batch_.clear();
  }

  const options& options_;
  std::ostream& out_;
  std::ostream* decisions_;
  store::memory_store claims_;
  engine::gate gate_;
  std::vector<engine::event> batch_;
  std::vector<x12::status_entry> entries_;
  std::vector<std::string> traces_;
  std::string decision_lines_;
  std::uint32_t control_ = 0;
};

// Feeds replay one accepted transaction set at a time. The set is the unit the 999 accepts
// (IK5), so its claims are answered as soon as its SE checks out; the interchange never has
// to fit in memory. A group or interchange trailer error found later (GE/IEA counts or
// control numbers) is still acknowledged with its 999/TA1 and makes the exit code 1, but it
// cannot recall answers already given: the note on stderr says how many it concerns.
class replay_sink final : public x12::reader_sink {
 public:
  replay_sink(const options& o, replay& gate, std::string file)
      : options_(o), gate_(gate), file_(std::move(file)) {}

  void on_claim(const model::claim& claim) override {
    set_claims_.emplace_back(claim, file_ + ":" + std::to_string(claim.source_offset));
  }
  void on_set_end(const x12::set_result& set) override {
    if (set.rejected) {
      set_claims_.clear();
      return;
    }
    answered_in_group_[set.group_index] += set_claims_.size();
    gate_.claims(set_claims_);
  }
  void on_interchange_end(const x12::interchange_result& result) override {
    bool findings = result.ack_requested || !result.errors.empty();
    bool all = !result.rejected && result.any_accepted();
    std::size_t recalled = 0;
    for (std::size_t g = 0; g < result.groups.size(); ++g) {
      const auto& group = result.groups[g];
      if (group.rejected || group.ack_code() != 'A') findings = true;
      if (group.rejected || group.accepted_sets() < group.sets.size()) all = false;
      if (group.rejected || result.rejected) recalled += answered_in_group_[g];
    }
    if (findings) {
      auto settings = options_.ack;
      settings.control = 900000000 + ++acks_;
      gate_.acknowledgment(x12::write_acknowledgment(result, settings));
      std::cerr << prefixed(file_, x12::describe_findings(result));
    }
    if (recalled > 0) {
      std::cerr << file_ << ": note: " << recalled
                << " claims were answered before their group or interchange trailer was "
                   "rejected; their answers stand\n";
    }
    answered_in_group_.clear();
    rejected_ = rejected_ || !all;
  }

  [[nodiscard]] bool rejected() const noexcept { return rejected_; }

 private:
  const options& options_;
  replay& gate_;
  std::string file_;
  std::vector<std::pair<model::claim, std::string>> set_claims_;  // (claim, "file:offset")
  std::map<std::size_t, std::size_t> answered_in_group_;
  std::uint32_t acks_ = 0;
  bool rejected_ = false;
};

policy::policy_file load_policy() {
  auto policy = policy::policy_file::parse(policy::embedded_ncd223());
  for (const auto& [name, text] : policy::embedded_overlays()) {
    policy.add_overlay(policy::overlay::parse(text, name));
  }
  return policy;
}

int run_replay(const options& o, const mapping::tables& tables) {
  const auto policy = load_policy();
  std::ofstream out_file;
  if (!o.out.empty()) {
    out_file.open(o.out, std::ios::binary);
    if (!out_file) throw usage_error{"cannot write " + o.out.string()};
  }
  std::ofstream decisions_file;
  if (!o.decisions.empty()) {
    decisions_file.open(o.decisions, std::ios::binary);
    if (!decisions_file) throw usage_error{"cannot write " + o.decisions.string()};
  }
  std::ostream& out = o.out.empty() ? std::cout : out_file;
  replay gate(o, tables, policy, out, o.decisions.empty() ? nullptr : &decisions_file);
  bool any_rejected = false;
  std::vector<char> buffer(1 << 20);
  for (const auto& file : expand(o.paths)) {
    const auto name = file.string();
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + name);
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::string_view head(buffer.data(), static_cast<std::size_t>(in.gcount()));
    if (looks_like_fhir(head)) {
      auto report = [&](fhir::read_result result, std::size_t offset) {
        print_issues(name, result);
        if (result.has_errors()) {
          any_rejected = true;
          out << fhir::operation_outcome_json(result) << '\n';
        }
        if (!result.rejected) {
          gate.facts(std::move(result.facts), name + ":" + std::to_string(offset));
        }
      };
      if (fhir::sniff(head) == fhir::encoding::ndjson) {
        // NDJSON streams in batches of whole lines: each line is a message of its own, so a
        // file of any size is read in bounded memory.
        std::string pending(head);
        std::size_t offset = 0;
        std::size_t line = 1;
        for (;;) {
          const bool at_end = !in;
          const auto last_newline = pending.rfind('\n');
          const std::size_t cut = at_end                              ? pending.size()
                                  : last_newline == std::string::npos ? 0
                                                                      : last_newline + 1;
          if (cut > 0) {
            const std::string_view batch(pending.data(), cut);
            report(fhir::read_ndjson(batch, line, tables), offset);
            line += static_cast<std::size_t>(std::count(batch.begin(), batch.end(), '\n'));
            offset += cut;
            pending.erase(0, cut);
          }
          if (at_end) break;
          in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
          pending.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
        }
        continue;
      }
      std::string text(head);
      text.append(std::istreambuf_iterator<char>(in), {});
      report(fhir::read(text, fhir::sniff(text), tables), 0);
      continue;
    }
    replay_sink sink(o, gate, name);
    x12::interchange_reader reader(sink, o.reader);
    feed(reader, head, in, buffer);
    any_rejected = any_rejected || sink.rejected();
  }
  gate.summary();
  return any_rejected ? 1 : 0;
}

// covgate serve: config -> service -> listeners + outbox, until a signal.
int run_serve(const options& o, const mapping::tables& tables) {
  const auto config =
      transport::parse_config(read_file(o.config), fs::absolute(o.config).parent_path());
  const auto tokens = transport::load_tokens(config.http);
  const auto policy = load_policy();
  transport::service svc(config, policy, tables);
  boost::asio::io_context io;
  std::optional<transport::mllp_server> mllp;
  std::optional<transport::http_server> http;
  if (config.mllp.enabled) mllp.emplace(io, svc);
  if (config.http.enabled) http.emplace(io, svc, tokens);
  std::optional<transport::outbox_worker> outbox;
  if (!config.outbox.destinations.empty()) outbox.emplace(svc);
  // Retention runs at start and then hourly.
  boost::asio::steady_timer retention(io);
  std::function<void()> prune = [&] {
    const auto n = svc.prune();
    if (n > 0) std::cerr << "covgate serve: journal retention deleted " << n << " messages\n";
    retention.expires_after(std::chrono::hours(1));
    retention.async_wait([&](boost::system::error_code ec) {
      if (!ec) prune();
    });
  };
  prune();
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer grace(io);
  std::chrono::steady_clock::time_point deadline;
  std::function<void()> wait_for_connections;  // outlives the signal handler that starts it
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    std::cerr << "covgate serve: stopping (finishing in-flight messages)\n";
    retention.cancel();
    if (mllp) mllp->drain();
    if (http) http->drain();
    // Stop once every connection has closed, or when the longest read timeout has passed
    // (a peer stalled mid-message gets no longer than it would have anyway).
    deadline =
        std::chrono::steady_clock::now() + std::max(config.mllp.read_timeout, config.http.timeout);
    wait_for_connections = [&] {
      if ((svc.connections("mllp") == 0 && svc.connections("http") == 0) ||
          std::chrono::steady_clock::now() >= deadline) {
        io.stop();
        return;
      }
      grace.expires_after(std::chrono::milliseconds(20));
      grace.async_wait([&](boost::system::error_code) { wait_for_connections(); });
    };
    wait_for_connections();
  });
  std::cout << "covgate serve:";
  if (mllp) std::cout << " mllp " << config.mllp.address << ":" << mllp->port();
  if (http) std::cout << " http " << config.http.address << ":" << http->port();
  std::cout << " store "
            << (config.store.directory.empty() ? std::string(":memory:")
                                               : config.store.directory.string())
            << std::endl;
  const unsigned workers =
      config.workers > 0 ? config.workers : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < workers; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  // Answers still being committed are posted to the (stopped) io_context: finish them
  // while it exists.
  outbox.reset();
  svc.shutdown();
  std::cerr << "covgate serve: stopped\n";
  return 0;
}

int run(const options& o) {
  const auto tables = load_tables(o);
  if (o.command == "replay") return run_replay(o, tables);
  if (o.command == "serve") return run_serve(o, tables);
  bool any_rejected = false;
  std::uint32_t ack_control = 1;
  fhir_input fhir_files(o, tables);
  std::vector<char> buffer(1 << 20);
  for (const auto& file : expand(o.paths)) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << file.string() << ": cannot be read\n";
      any_rejected = true;
      continue;
    }
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::string_view head(buffer.data(), static_cast<std::size_t>(in.gcount()));
    if (looks_like_fhir(head)) {
      std::string text(head);
      text.append(std::istreambuf_iterator<char>(in), {});
      any_rejected = !fhir_files.process(file, text) || any_rejected;
      continue;
    }
    input_sink sink(o, ack_control);
    sink.set_file(file.string());
    x12::interchange_reader reader(sink, o.reader);
    feed(reader, head, in, buffer);
    if (reader.leading_bytes_skipped() > 0) {
      std::cerr << file.string() << ": note: skipped " << reader.leading_bytes_skipped()
                << " bytes of text before the first ISA\n";
    }
    any_rejected = any_rejected || sink.rejected();
  }
  fhir_files.finish();
  return any_rejected ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_arguments(argc, argv));
  } catch (const usage_error& e) {
    std::cerr << "covgate: " << e.message << "\n\n" << usage_text;
    return 2;
  } catch (const mapping::config_error& e) {
    std::cerr << "covgate: mapping tables: " << e.what() << '\n';
    return 2;
  } catch (const transport::config_error& e) {
    std::cerr << "covgate: " << e.what() << '\n';
    return 2;
  } catch (const store::store_error& e) {
    std::cerr << "covgate: store: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "covgate: " << e.what() << '\n';
    return 2;
  }
}
