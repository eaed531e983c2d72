// What check and parse share: each input read by its own reader without the gate, answers
// and findings handed to a sink of the command's own.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/engine/sniff.hpp"
#include "covgate/engine/x12_input.hpp"
#include "covgate/fhir/reader.hpp"
#include "covgate/hl7v2/reader.hpp"
#include "options.hpp"

namespace covgate::app {

class read_only_sink {
 public:
  virtual ~read_only_sink() = default;
  /// An X12 interchange ended; `acknowledgment` is its 999/TA1 (check prints every one).
  virtual void interchange(const x12::interchange_result& result,
                           const engine::interchange_verdict& verdict, std::uint32_t control) {
    (void)result, (void)verdict, (void)control;
  }
  /// The claims of an accepted set (valid during the call; the sink may move them out).
  virtual void accepted_set(std::span<model::claim> claims) { (void)claims; }
  virtual void fhir(const fhir::read_result& result) { (void)result; }
  /// One HL7 v2 message read; `control` numbers its ACK.
  virtual void hl7v2(const hl7v2::read_result& result, std::uint32_t control) {
    (void)result, (void)control;
  }
};

/// Reads every input of `o.paths` into `out`; findings go to stderr. Returns true when
/// anything was rejected or skipped. With `read_ahead`, an X12 file (not standard input) is
/// read on another thread while `out` takes the sets before: worth it when the sink's work
/// is about the reading's (parse's JSON), not when it is small (check's acknowledgments, where
/// handing the claims over cost 15 %).
bool read_inputs(const options& o, const mapping::tables& tables, read_only_sink& out,
                 bool read_ahead);

}  // namespace covgate::app
