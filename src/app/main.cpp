// The covgate command line: `check` validates X12 and FHIR input and prints the answer each
// standard defines (999/TA1, OperationOutcome); `parse` prints the normalized claims and facts
// as JSON Lines.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/fhir/linker.hpp"
#include "covgate/fhir/reader.hpp"
#include "covgate/mapping/tables.hpp"
#include "covgate/model/claim_json.hpp"
#include "covgate/model/fact_json.hpp"
#include "covgate/x12/ack_writer.hpp"
#include "covgate/x12/interchange_reader.hpp"

namespace fs = std::filesystem;
using namespace covgate;

namespace {

constexpr std::string_view usage_text =
    "usage: covgate check [options] PATH...\n"
    "       covgate parse [options] PATH...\n"
    "\n"
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
    "  --ack-time CCYYMMDDHHMM        timestamp of the acknowledgments (default: now, UTC)\n"
    "  --mappings DIR                 code tables to use instead of the built-in mappings/\n"
    "PATH may be a file or a folder (read recursively, in name order).\n";

struct usage_error {
  std::string message;
};

struct options {
  std::string command;
  std::vector<fs::path> paths;
  fs::path mappings;
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
  if (o.command != "check" && o.command != "parse") {
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
    } else if (arg == "--ack-time") {
      stamp = value();
      if (stamp.size() != 12 ||
          !std::all_of(stamp.begin(), stamp.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw usage_error{"--ack-time takes CCYYMMDDHHMM"};
      }
    } else if (arg == "--mappings") {
      o.mappings = value();
    } else if (arg.starts_with("--")) {
      throw usage_error{"unknown option " + std::string(arg)};
    } else {
      o.paths.emplace_back(arg);
    }
  }
  if (o.paths.empty()) throw usage_error{"no input PATH"};
  o.ack.date = stamp.substr(2, 6);
  o.ack.time = stamp.substr(8, 4);
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

// Collects what one input produced and decides what to print.
class input_sink final : public x12::reader_sink {
 public:
  input_sink(const options& o, std::uint32_t& ack_control)
      : options_(o), ack_control_(ack_control) {}

  void on_claim(const model::claim& claim) override {
    if (options_.command != "parse") return;
    std::string line;
    model::append_json(line, claim);
    set_claims_.push_back(std::move(line));
  }

  void on_set_end(const x12::set_result& set) override {
    if (!set.rejected) {
      for (auto& c : set_claims_) pending_.push_back({set.group_index, std::move(c)});
    }
    set_claims_.clear();
  }

  void on_interchange_end(const x12::interchange_result& result) override {
    if (result.rejected || !result.any_accepted()) rejected_ = true;
    for (const auto& g : result.groups) {
      if (g.rejected || g.accepted_sets() < g.sets.size()) rejected_ = true;
    }
    if (options_.command == "check") {
      auto settings = options_.ack;
      settings.control = ack_control_++;
      std::cout << x12::write_acknowledgment(result, settings);
      std::cerr << findings_prefix(x12::describe_findings(result));
    } else if (!result.rejected) {
      for (auto& [group, line] : pending_) {
        if (group < result.groups.size() && !result.groups[group].rejected) {
          std::cout << line << '\n';
        }
      }
    }
    pending_.clear();
  }

  void set_file(std::string name) { file_ = std::move(name); }
  [[nodiscard]] bool rejected() const noexcept { return rejected_; }

 private:
  std::string findings_prefix(const std::string& text) const {
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
      const auto end = text.find('\n', start);
      out.append(file_).append(": ").append(text, start, end - start + 1);
      start = end + 1;
    }
    return out;
  }

  const options& options_;
  std::uint32_t& ack_control_;
  std::string file_;
  std::vector<std::string> set_claims_;
  std::vector<std::pair<std::size_t, std::string>> pending_;  // (group index, JSON line)
  bool rejected_ = false;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), {}};
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

// True when the first bytes look like FHIR (JSON or XML) rather than X12.
bool looks_like_fhir(std::string_view head) {
  if (head.substr(0, 3) == "\xEF\xBB\xBF") head.remove_prefix(3);
  const auto first = head.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && (head[first] == '{' || head[first] == '<');
}

class fhir_input {
 public:
  fhir_input(const options& o, const mapping::tables& tables)
      : options_(o), tables_(tables), linker_([this](const model::fact& f) { print(f); }) {}

  bool process(const fs::path& file, const std::string& text) {
    const auto result = fhir::read(text, fhir::sniff(text), tables_);
    if (options_.command == "check") {
      std::cout << fhir::operation_outcome_json(result) << '\n';
      for (const auto& i : result.issues) {
        if (i.level == fhir::severity::information) continue;
        std::cerr << file.string() << ": " << fhir::name(i.level) << " " << i.code << " at "
                  << (i.expression.empty() ? std::string("(message)") : i.expression) << ": "
                  << i.diagnostics << '\n';
      }
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

int run(const options& o) {
  const auto tables = load_tables(o);
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
    reader.put(head);
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      reader.put({buffer.data(), static_cast<std::size_t>(in.gcount())});
    }
    reader.finish();
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
  } catch (const std::exception& e) {
    std::cerr << "covgate: " << e.what() << '\n';
    return 2;
  }
}
