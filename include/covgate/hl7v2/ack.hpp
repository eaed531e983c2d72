// HL7 v2 acknowledgments: the MSH fields an ACK echoes or swaps, and the ACK messages that
// answer a message, in original mode (one application ACK: AA, AE or AR) or in enhanced mode
// (MSH-15/MSH-16 valued: a commit ACK CA/CE/CR, then the application ACK, each only when the
// sender's AL/NE/ER/SU asks for it), with ERR segments in the form of the sender's version
// (ERR-2/3/4/8 from 2.5 on, ERR-1 before). An ACK says the message's facts were stored, never
// the coverage decision. Pure; no I/O, no clock (the time is a setting).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/hl7v2/er7.hpp"
#include "covgate/hl7v2/error.hpp"

namespace covgate::hl7v2 {

/// The MSH fields an acknowledgment echoes or swaps, and what the reader routes by. Fields are
/// the raw text as sent (escape sequences and, for the HD fields MSH-3 to MSH-6, their
/// components kept whole: `LAB^2.16.840.1.113883.3.9^ISO`).
struct hl7_header {
  char field_separator = '|';
  std::string encoding_characters = "^~\\&";
  std::string sending_application, sending_facility;      ///< MSH-3, MSH-4 (HD, whole)
  std::string receiving_application, receiving_facility;  ///< MSH-5, MSH-6 (HD, whole)
  std::string message_type, trigger_event;                ///< MSH-9.1, MSH-9.2
  std::string control_id;                                 ///< MSH-10
  std::string processing_id = "P";                        ///< MSH-11.1
  std::string version = "2.5.1";                          ///< MSH-12.1
  std::string timestamp;                                  ///< MSH-7.1 (DTM as sent)
  std::string message_structure;                          ///< MSH-9.3 (ORU_R01…), often empty
  std::string accept_ack_type;       ///< MSH-15: AL, NE, ER, SU, or "" (original mode)
  std::string application_ack_type;  ///< MSH-16: AL, NE, ER, SU, or "" (original mode)
  std::string character_set;         ///< MSH-18 first repetition ("", "8859/1"…)
  bool version_given = false;        ///< MSH-12 was valued (else `version` is the default)

  /// True when MSH-15 or MSH-16 asks for enhanced-mode acknowledgments.
  [[nodiscard]] bool enhanced_mode() const noexcept {
    return !accept_ack_type.empty() || !application_ack_type.empty();
  }
  /// The delimiters these fields were written with (defaults for any MSH-2 lacks).
  [[nodiscard]] delimiters delims() const noexcept;
};

/// True when `payload` starts with an MSH segment, or a batch's FHS or BHS (after a BOM, blanks
/// or an MLLP start block): HL7 v2 ER7.
[[nodiscard]] bool looks_like_hl7v2(std::string_view payload) noexcept;

/// Reads the MSH segment (the separators come from MSH-1 and MSH-2). nullopt when the payload
/// has no usable MSH.
[[nodiscard]] std::optional<hl7_header> parse_msh(std::string_view payload);

/// "Same message sent again": the sender (MSH-3 and MSH-4, components read with the message's
/// own delimiters, so a change of delimiters gives the same key) and MSH-10, as one printable
/// string: `APP^OID^ISO/FAC^OID^ISO/CONTROL` with '%', '/', '^', '&' and bytes outside
/// printable ASCII percent-encoded inside each part.
[[nodiscard]] std::string dedupe_key(const hl7_header& header);

struct hl7_ack_settings {
  std::string application = "COVGATE";  ///< our MSH-3 (the original MSH-5 is ignored)
  std::string facility;                 ///< our MSH-4
  std::string timestamp;                ///< MSH-7, YYYYMMDDHHMM (time is an argument)
  std::string control_id;               ///< our MSH-10 (see write_acks for two ACKs)
};

/// An ACK answering `original` (nullptr when its MSH could not be read: MSA-2 is empty then)
/// with `code` (AA, AE, AR, CA, CE, CR). A non-empty `error_code` (HL7 table 0357) adds
/// ERR|||code^text^HL70357|E. Segments end with CR. MSH-3 and MSH-4 of the original come back
/// whole in MSH-5 and MSH-6.
[[nodiscard]] std::string hl7_ack(const hl7_header* original, std::string_view code,
                                  std::string_view error_code, std::string_view error_text,
                                  const hl7_ack_settings& settings);

/// MSA-1 (HL7 table 0008).
enum class ack_code : std::uint8_t {
  application_accept,  ///< AA
  application_error,   ///< AE
  application_reject,  ///< AR
  commit_accept,       ///< CA
  commit_error,        ///< CE
  commit_reject,       ///< CR
};
[[nodiscard]] std::string_view name(ack_code code) noexcept;

/// One ERR segment: where (ERR-2: segment id ^ sequence ^ field ^ repetition ^ component),
/// what (ERR-3 from the table 0357 code of `code`), how bad (ERR-4 E or W) and a text that
/// names no value (ERR-8).
struct ack_error {
  error code = error::internal_error;
  severity level = severity::error;
  std::string segment;         ///< "OBX"; "" for the message as a whole
  std::uint32_t sequence = 0;  ///< occurrence of that segment id in the message, 1-based
  std::uint32_t field = 0;     ///< 0 when the segment as a whole
  std::uint32_t repetition = 0;
  std::uint32_t component = 0;
  std::string text;
};

/// What the acknowledgment reports.
struct ack_outcome {
  ack_code application = ack_code::application_accept;  ///< AA, AE or AR
  std::vector<ack_error> errors;  ///< at most `max_errors` become ERR segments
  /// False when the caller could not store the facts: AE (original mode) or CE (enhanced
  /// mode) with ERR 207, whatever `application` says (the sender should send it again).
  bool stored = true;
};

/// The ACK messages that answer `original` (nullptr: no readable MSH), in the order to send:
/// - original mode (MSH-15 and MSH-16 empty): one application ACK;
/// - enhanced mode: the commit ACK (CA when stored, CR when the message is refused (AR), CE when
///   it could not be stored) if MSH-15 asks (AL always, NE never, ER on CE/CR, SU on CA; an
///   empty or unknown value counts as AL), then, for a committed message only, the application
///   ACK (AA or AE) if MSH-16 asks the same way.
/// Each ACK's MSH-10 is settings.control_id, the second one's with "-2" appended. Errors
/// beyond the first `max_errors` get no ERR segment. The list may be empty (enhanced mode with
/// NE/NE).
[[nodiscard]] std::vector<std::string> write_acks(const hl7_header* original,
                                                  const ack_outcome& outcome,
                                                  const hl7_ack_settings& settings,
                                                  std::size_t max_errors = 50);

}  // namespace covgate::hl7v2
