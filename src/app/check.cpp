// covgate check: every input validated by its reader, answered as its standard defines
// (999/TA1 for X12, an OperationOutcome for FHIR), findings on stderr.
#include <iostream>

#include "commands.hpp"
#include "covgate/model/date.hpp"
#include "covgate/x12/ack_writer.hpp"
#include "load.hpp"
#include "read_only.hpp"

namespace covgate::app {
namespace {

class check_output final : public read_only_sink {
 public:
  explicit check_output(std::int64_t time_ms) : stamp_(model::utc_stamp(time_ms)) {
    const auto& stamp = stamp_;
    ack_.date = stamp.substr(2, 6);
    ack_.time = stamp.substr(8, 4);
  }
  void interchange(const x12::interchange_result& result, const engine::interchange_verdict&,
                   std::uint32_t control) override {
    ack_.control = control;
    std::cout << x12::write_acknowledgment(result, ack_);
  }
  void fhir(const fhir::read_result& result) override {
    std::cout << fhir::operation_outcome_json(result) << '\n';
  }
  void hl7v2(const hl7v2::read_result& result, std::uint32_t control) override {
    hl7v2::hl7_ack_settings s;
    s.timestamp = stamp_;
    s.control_id = "CG" + std::to_string(control);
    // ER7 segments end with CR; each ACK on a line of its own for people and diff.
    for (const auto& ack : hl7v2::write_acks(result, s)) std::cout << ack << '\n';
  }

 private:
  std::string stamp_;
  x12::ack_settings ack_;
};

}  // namespace

int run_check(const options& o) {
  const auto tables = load_tables(o.mappings);
  check_output out(o.time_ms);
  return read_inputs(o, tables, out, false) ? 1 : 0;
}

}  // namespace covgate::app
