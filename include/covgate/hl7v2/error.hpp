// Every way an HL7 v2 message or stream can be wrong (or worth a note), as one error enum
// registered with std::error_category, with the HL7 table 0357 code an ACK's ERR-3 carries and
// the effect each one has on the acknowledgment. Pure.
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

namespace covgate::hl7v2 {

/// How much a finding weighs (ERR-4, HL7 table 0516, for error and warning).
enum class severity : std::uint8_t {
  error,        ///< the message (AR) or the segment it names (AE) is not read
  warning,      ///< read, with something the sender should fix
  information,  ///< a note (a status that does not count, an event not read); not in the ACK
};

/// What a finding does to the application acknowledgment (MSA-1).
enum class ack_effect : std::uint8_t {
  none,    ///< AA (a warning or a note)
  error,   ///< AE: the segment it names was not read; the rest of the message was
  reject,  ///< AR: nothing of the message was read
};

enum class error : std::uint8_t {
  // The message as a whole (AR: nothing is read).
  msh_missing = 1,            ///< the message does not start with an MSH segment
  invalid_delimiters,         ///< MSH-1/MSH-2 missing, alphanumeric or repeated
  message_too_large,          ///< over read_limits::max_message_bytes
  too_many_segments,          ///< over read_limits::max_segments
  message_type_missing,       ///< MSH-9 is empty
  unsupported_message_type,   ///< MSH-9 names a message covgate does not read (SIU, ORM…)
  unsupported_event,          ///< an event covgate cannot apply (ADT A40 merge…)
  control_id_missing,         ///< MSH-10 is empty: nothing could answer or deduplicate it
  unsupported_processing_id,  ///< MSH-11 is not an accepted processing id
  unsupported_version,        ///< MSH-12 is not an HL7 version 2.x
  // A segment or field (AE: the segment is not read, the rest is).
  segment_sequence,        ///< a segment out of place (OBX before any OBR, PV1 missing…)
  required_field_missing,  ///< a field the reading needs is empty (OBX-11, PV1-2…)
  data_type_error,         ///< a value not of its type (a number, a date/time)
  table_value_not_found,   ///< a code not in its table (OBX-11 status, OBX-2 type…)
  field_too_long,          ///< a field over read_limits::max_field_bytes
  patient_missing,         ///< results or a visit with no PID to say whose they are
  // Warnings: read, with a note to the sender (ERR severity W).
  version_missing,             ///< MSH-12 empty: read as 2.5.1
  unknown_character_set,       ///< MSH-18 names a set covgate does not decode
  invalid_character_encoding,  ///< bytes not valid in the declared (or assumed) character set
  unrecognized_segment,        ///< a segment id that is not three letters or digits
  too_many_repetitions,        ///< over read_limits::max_repetitions: the rest are not read
  unit_unknown,                ///< OBX-6 is not in units.json for the test: kept, flagged
  no_patient_key,              ///< PID-3 has no identifier that makes a patient key (MC…)
  no_result_identity,          ///< OBR-3 empty: a later correction cannot replace the result
  no_visit_number,             ///< PV1-19 empty: a later update cannot replace the visit
  no_effective_time,           ///< no SPM-17, OBR-7 or OBX-14: the rules compare dates
  visit_date_missing,          ///< PV1-44 empty: the visit has no date the rules compare
  reference_range_unread,      ///< OBX-7 in a form covgate does not read
  // Notes (not in the ACK).
  status_not_counted,  ///< OBX-11 P, R, I, S, X, O or N: the result does not count
  code_not_read,       ///< an OBX whose code no table maps (counted, not listed)
  value_not_read,      ///< an OBX with no value or interpretation covgate reads
  event_not_read,      ///< an ADT event that gives no fact (A02, A05, A31…)
  segment_not_read,    ///< a Z-segment or a segment the mapping does not use
  // The stream (message_splitter notices).
  text_between_messages,  ///< bytes outside any message, batch header or trailer
  batch_count_mismatch,   ///< BTS-1 differs from the messages in the batch
  file_count_mismatch,    ///< FTS-1 differs from the batches in the file
  batch_trailer_missing,  ///< BHS without BTS (or FHS without FTS) before the end
  unexpected_trailer,     ///< BTS without BHS, or FTS without FHS
  // covgate itself.
  internal_error,  ///< the reader failed (never expected; ERR-3 207)
};

/// The first and last enumerator, for tests that walk them all.
inline constexpr error first_error = error::msh_missing;
inline constexpr error last_error = error::internal_error;

/// The std::error_category for hl7v2::error ("covgate.hl7v2").
[[nodiscard]] const std::error_category& hl7v2_category() noexcept;

[[nodiscard]] inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), hl7v2_category()};
}

/// The HL7 table 0357 code ERR-3 carries: "100", "101", "102", "103", "104", "200", "201",
/// "202", "203" or "207" (warnings and notes carry the code of their kind of problem).
[[nodiscard]] std::string_view err_code(error e) noexcept;

/// The text of that table 0357 code ("Segment sequence error", …).
[[nodiscard]] std::string_view err_code_text(error e) noexcept;

/// The weight of a finding.
[[nodiscard]] severity severity_of(error e) noexcept;

/// What a finding does to MSA-1.
[[nodiscard]] ack_effect effect_of(error e) noexcept;

/// A short English description that names no data values (safe for logs).
[[nodiscard]] std::string_view describe(error e) noexcept;

/// "error", "warning" or "information".
[[nodiscard]] std::string_view name(severity s) noexcept;

}  // namespace covgate::hl7v2

template <>
struct std::is_error_code_enum<covgate::hl7v2::error> : std::true_type {};
