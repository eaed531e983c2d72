// HL7 v2 acknowledgments for messages that arrive over MLLP. covgate does not read HL7 v2
// content yet: an HL7 v2 message gets an ACK with MSA-1 AR and an ERR naming table 0357 code
// 200 (unsupported message type), so the sender's engine files it instead of retrying forever.
// Pure; no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace covgate::hl7v2 {

/// The MSH fields an acknowledgment echoes or swaps.
struct hl7_header {
  char field_separator = '|';
  std::string encoding_characters = "^~\\&";
  std::string sending_application, sending_facility;      ///< MSH-3, MSH-4
  std::string receiving_application, receiving_facility;  ///< MSH-5, MSH-6
  std::string message_type, trigger_event;                ///< MSH-9.1, MSH-9.2
  std::string control_id;                                 ///< MSH-10
  std::string processing_id = "P";                        ///< MSH-11
  std::string version = "2.5.1";                          ///< MSH-12
};

/// True when `payload` starts with an MSH segment (after blanks): HL7 v2 ER7.
[[nodiscard]] bool looks_like_hl7v2(std::string_view payload) noexcept;

/// Reads the MSH segment (the separators come from MSH-1 and MSH-2). nullopt when the payload
/// has no usable MSH.
[[nodiscard]] std::optional<hl7_header> parse_msh(std::string_view payload);

struct hl7_ack_settings {
  std::string application = "COVGATE";  ///< our MSH-3 (the original MSH-5 is ignored)
  std::string facility;                 ///< our MSH-4
  std::string timestamp;                ///< MSH-7, YYYYMMDDHHMM (time is an argument)
  std::string control_id;               ///< our MSH-10
};

/// An ACK answering `original` (nullptr when its MSH could not be read: MSA-2 is empty then)
/// with `code` (AA, AE, AR, CA, CE, CR). A non-empty `error_code` (HL7 table 0357) adds
/// ERR|||code^text^HL70357|E. Segments end with CR.
[[nodiscard]] std::string hl7_ack(const hl7_header* original, std::string_view code,
                                  std::string_view error_code, std::string_view error_text,
                                  const hl7_ack_settings& settings);

}  // namespace covgate::hl7v2
