// covgate parse: the claims of accepted X12 sets and the facts read from FHIR, as JSON Lines.
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "covgate/fhir/linker.hpp"
#include "covgate/model/claim_json.hpp"
#include "covgate/model/fact_json.hpp"
#include "load.hpp"
#include "read_only.hpp"

namespace covgate::app {
namespace {

class parse_output final : public read_only_sink {
 public:
  parse_output() : linker_([this](model::fact&& f) { print(f); }) { out_.reserve(flush_at + 4096); }
  parse_output(const parse_output&) = delete;
  parse_output& operator=(const parse_output&) = delete;
  ~parse_output() override { flush(); }

  void accepted_set(std::span<model::claim> claims) override {
    for (const auto& c : claims) {
      model::append_json(out_, c);
      end_line();
    }
  }
  void fhir(const fhir::read_result& result) override {
    if (result.rejected) return;
    for (const auto& f : result.facts) linker_.add(f);
  }
  void hl7v2(const hl7v2::read_result& result, std::uint32_t) override {
    if (result.rejected) return;
    for (const auto& f : result.facts) linker_.add(f);
  }
  /// Facts whose Patient never arrived, last, with patient_key null; then everything is out.
  void finish() {
    const auto waiting = linker_.take_waiting();
    for (const auto& f : waiting) print(f);
    flush();
    if (!waiting.empty()) {
      std::cerr << "note: " << waiting.size()
                << " facts name a Patient that never arrived (patient_key null)\n";
    }
  }

 private:
  // Lines gather in one buffer written in large blocks: a write per line (or an iostream
  // insertion per line) would cost more than making the line.
  static constexpr std::size_t flush_at = std::size_t{1} << 20;

  void print(const model::fact& f) {
    model::append_json(out_, f);
    end_line();
  }
  void end_line() {
    out_.push_back('\n');
    if (out_.size() >= flush_at) flush();
  }
  void flush() {
    std::fwrite(out_.data(), 1, out_.size(), stdout);
    out_.clear();
  }
  fhir::linker linker_;
  std::string out_;
};

}  // namespace

int run_parse(const options& o) {
  const auto tables = load_tables(o.mappings);
  parse_output out;
  const bool rejected = read_inputs(o, tables, out, true);
  out.finish();
  return rejected ? 1 : 0;
}

}  // namespace covgate::app
