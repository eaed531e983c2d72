// covgate parse: the claims of accepted X12 sets and the facts read from FHIR, as JSON Lines.
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
  parse_output() : linker_([this](model::fact&& f) { print(f); }) {}

  void accepted_set(std::vector<model::claim>& claims) override {
    for (const auto& c : claims) {
      line_.clear();
      model::append_json(line_, c);
      std::cout << line_ << '\n';
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
  /// Facts whose Patient never arrived, last, with patient_key null.
  void finish() {
    const auto waiting = linker_.take_waiting();
    for (const auto& f : waiting) print(f);
    if (!waiting.empty()) {
      std::cerr << "note: " << waiting.size()
                << " facts name a Patient that never arrived (patient_key null)\n";
    }
  }

 private:
  void print(const model::fact& f) {
    line_.clear();
    model::append_json(line_, f);
    std::cout << line_ << '\n';
  }
  fhir::linker linker_;
  std::string line_;
};

}  // namespace

int run_parse(const options& o) {
  const auto tables = load_tables(o.mappings);
  parse_output out;
  const bool rejected = read_inputs(o, tables, out);
  out.finish();
  return rejected ? 1 : 0;
}

}  // namespace covgate::app
