// Reads one HL7 v2 message (ER7) into the facts the FHIR reader gives for the same clinical
// content: ORU^R01 lab results and evidence (OBX), ADT visits (A01, A03, A04, A08; A11 and A13
// retract), and the patient of each PID. Every problem becomes an issue that names a segment,
// a field and a line, never a value; the result says which ACK to send (AA, AE, AR) and with
// which ERR segments. Pure: text in, facts, issues and the parsed MSH out. No recursion; every
// loop is bounded by the input and read_limits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/hl7v2/ack.hpp"
#include "covgate/hl7v2/error.hpp"
#include "covgate/mapping/tables.hpp"
#include "covgate/model/facts.hpp"

namespace covgate::hl7v2 {

/// Limits on one message. Worst-case memory for a message at every limit: the message (twice
/// when it is transcoded from ISO 8859-1), one 16-byte entry per segment, and the facts.
struct read_limits {
  std::size_t max_message_bytes = 16u << 20;  ///< larger: refused (AR 104)
  std::size_t max_segments = 100'000;         ///< more: refused (AR 100)
  std::size_t max_field_bytes = 64u << 10;    ///< a longer field that is read: AE 104
  std::size_t max_repetitions = 100;          ///< of PID-3, PV1-7/8/9/17, OBX-5, OBX-8
};

struct read_options {
  read_limits limits{};
  /// The line the message starts on in its file (issues count from it).
  std::uint64_t first_line = 1;
  /// MSH-11 values that are read; any other is refused (AR 202). A host that must not let
  /// training or debugging messages reach decisions lists only "P".
  std::vector<std::string> processing_ids{"P", "T", "D"};
};

/// One finding. `diagnostics` names segments, fields, codes and units, never a patient value.
struct issue {
  severity level = severity::error;
  error code = error::internal_error;
  std::string segment;          ///< "OBX"; "" for the message or the text as a whole
  std::uint32_t sequence = 0;   ///< occurrence of that segment id in the message, 1-based
  std::uint32_t field = 0;      ///< 0 when the segment as a whole
  std::uint32_t component = 0;  ///< 0 when the field as a whole
  std::uint64_t line = 0;       ///< line in the file (read_options::first_line based), 0 unknown
  std::string diagnostics;
};

/// "line 12: OBX[3]-5.1: <diagnostics>" (the parts that are known).
[[nodiscard]] std::string to_string(const issue& i);

struct read_result {
  std::vector<model::fact> facts;
  std::vector<issue> issues;
  std::optional<hl7_header> header;  ///< the MSH, when one could be read
  bool rejected = false;             ///< nothing was read: the ACK is AR
  std::uint32_t segments = 0;        ///< segments in the message
  std::uint32_t observations = 0;    ///< OBX segments seen
  std::uint32_t mapped = 0;          ///< OBX that gave a lab result, evidence or retraction
  std::uint32_t not_read = 0;        ///< OBX whose code no table maps
  std::uint32_t visits = 0;          ///< encounter facts and visit retractions

  /// AR when rejected, AE when an issue of severity error names a segment that was not read,
  /// AA otherwise.
  [[nodiscard]] ack_code ack() const noexcept;
  [[nodiscard]] bool has_errors() const noexcept;
  /// The acknowledgment's content: ack() and one ERR per error and warning.
  [[nodiscard]] ack_outcome outcome() const;
  /// hl7v2::dedupe_key of the header; "" without one.
  [[nodiscard]] std::string dedupe_key() const;
};

/// Reads one message (a BOM, blanks, MLLP start and end blocks around it are skipped). Never
/// throws on input; every problem is an issue.
[[nodiscard]] read_result read(std::string_view message, const mapping::tables& tables,
                               const read_options& options = {});

/// The result for a message a host will not read (e.g. cut by the splitter at its size limit:
/// `why` = error::message_too_large): its MSH if readable, one issue, rejected.
[[nodiscard]] read_result refuse(std::string_view message, error why,
                                 const read_options& options = {});

/// The ACKs for `result` (write_acks over its header and outcome). `stored` false: the caller
/// could not store the facts (AE/CE with ERR 207).
[[nodiscard]] std::vector<std::string> write_acks(const read_result& result,
                                                  const hl7_ack_settings& settings,
                                                  bool stored = true);

}  // namespace covgate::hl7v2
