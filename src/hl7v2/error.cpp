#include "covgate/hl7v2/error.hpp"

#include <array>
#include <string>

namespace covgate::hl7v2 {
namespace {

struct error_info {
  error value;
  std::string_view code;  // HL7 table 0357
  severity weight;
  ack_effect effect;
  std::string_view text;
};

constexpr auto E = severity::error;
constexpr auto W = severity::warning;
constexpr auto I = severity::information;

// One row per enumerator, in enumerator order: the single place that maps a finding to its
// acknowledgment.
constexpr std::array error_table{
    error_info{error::msh_missing, "100", E, ack_effect::reject,
               "the message does not start with an MSH segment"},
    error_info{error::invalid_delimiters, "102", E, ack_effect::reject,
               "MSH-1 and MSH-2 do not give usable delimiters"},
    error_info{error::message_too_large, "104", E, ack_effect::reject,
               "the message is larger than the configured limit"},
    error_info{error::too_many_segments, "100", E, ack_effect::reject,
               "the message has more segments than the configured limit"},
    error_info{error::message_type_missing, "101", E, ack_effect::reject,
               "MSH-9 (message type) is required"},
    error_info{error::unsupported_message_type, "200", E, ack_effect::reject,
               "unsupported message type: covgate reads ORU^R01 and ADT"},
    error_info{error::unsupported_event, "201", E, ack_effect::reject, "unsupported event code"},
    error_info{error::control_id_missing, "101", E, ack_effect::reject,
               "MSH-10 (message control id) is required"},
    error_info{error::unsupported_processing_id, "202", E, ack_effect::reject,
               "unsupported processing id (MSH-11)"},
    error_info{error::unsupported_version, "203", E, ack_effect::reject,
               "unsupported version id: covgate reads HL7 v2.x (MSH-12)"},
    error_info{error::segment_sequence, "100", E, ack_effect::error, "segment sequence error"},
    error_info{error::required_field_missing, "101", E, ack_effect::error,
               "required field missing"},
    error_info{error::data_type_error, "102", E, ack_effect::error, "data type error"},
    error_info{error::table_value_not_found, "103", E, ack_effect::error, "table value not found"},
    error_info{error::field_too_long, "104", E, ack_effect::error,
               "field longer than the configured limit"},
    error_info{error::patient_missing, "100", E, ack_effect::error,
               "no PID segment says whose results or visit these are"},
    error_info{error::version_missing, "101", W, ack_effect::none,
               "MSH-12 (version id) is empty: read as 2.5.1"},
    error_info{error::unknown_character_set, "103", W, ack_effect::none,
               "MSH-18 names a character set covgate does not decode: read as ASCII or UTF-8"},
    error_info{error::invalid_character_encoding, "102", W, ack_effect::none,
               "bytes not valid in the message's character set: read as ISO 8859-1"},
    error_info{error::unrecognized_segment, "100", W, ack_effect::none,
               "a segment id is not three letters or digits: segment skipped"},
    error_info{error::too_many_repetitions, "104", W, ack_effect::none,
               "more repetitions than the configured limit: the rest are not read"},
    error_info{error::unit_unknown, "103", W, ack_effect::none,
               "unit not listed for the test in units.json: kept and flagged"},
    error_info{error::no_patient_key, "101", W, ack_effect::none,
               "PID-3 has no identifier that makes a patient key (type MC)"},
    error_info{error::no_result_identity, "101", W, ack_effect::none,
               "OBR-3 (filler order number) is empty: a later correction cannot replace "
               "this result"},
    error_info{error::no_visit_number, "101", W, ack_effect::none,
               "PV1-19 (visit number) is empty: a later update cannot replace this visit"},
    error_info{error::no_effective_time, "101", W, ack_effect::none,
               "no SPM-17, OBR-7 or OBX-14: the result has no date the rules compare"},
    error_info{error::visit_date_missing, "101", W, ack_effect::none,
               "PV1-44 (admit date/time) is empty: the visit has no date the rules compare"},
    error_info{error::reference_range_unread, "102", W, ack_effect::none,
               "OBX-7 reference range in a form covgate does not read"},
    error_info{error::status_not_counted, "0", I, ack_effect::none,
               "result status does not count (F, C and U do)"},
    error_info{error::code_not_read, "0", I, ack_effect::none,
               "no table maps the observation's code"},
    error_info{error::value_not_read, "0", I, ack_effect::none,
               "no value or interpretation covgate reads"},
    error_info{error::event_not_read, "0", I, ack_effect::none, "event gives no fact"},
    error_info{error::segment_not_read, "0", I, ack_effect::none,
               "segment not used by the mapping"},
    error_info{error::text_between_messages, "100", W, ack_effect::none,
               "text between messages skipped"},
    error_info{error::batch_count_mismatch, "100", W, ack_effect::none,
               "BTS-1 does not match the messages in the batch"},
    error_info{error::file_count_mismatch, "100", W, ack_effect::none,
               "FTS-1 does not match the batches in the file"},
    error_info{error::batch_trailer_missing, "100", W, ack_effect::none,
               "batch or file header without its trailer"},
    error_info{error::unexpected_trailer, "100", W, ack_effect::none,
               "batch or file trailer without its header"},
    error_info{error::internal_error, "207", E, ack_effect::reject, "application internal error"},
};

constexpr bool in_enumerator_order() {
  for (std::size_t i = 0; i < error_table.size(); ++i) {
    if (static_cast<std::size_t>(error_table[i].value) != i + 1) return false;
  }
  return true;
}
static_assert(error_table.size() == static_cast<std::size_t>(last_error));
static_assert(in_enumerator_order());

const error_info& info(error e) noexcept {
  const auto i = static_cast<std::size_t>(e);
  return i >= 1 && i <= error_table.size() ? error_table[i - 1] : error_table.back();
}

class category final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "covgate.hl7v2"; }
  [[nodiscard]] std::string message(int value) const override {
    return std::string(describe(static_cast<error>(value)));
  }
};

}  // namespace

const std::error_category& hl7v2_category() noexcept {
  static const category instance;
  return instance;
}

std::string_view err_code(error e) noexcept { return info(e).code; }

std::string_view err_code_text(error e) noexcept {
  const auto code = info(e).code;
  if (code == "0") return "Message accepted";
  if (code == "100") return "Segment sequence error";
  if (code == "101") return "Required field missing";
  if (code == "102") return "Data type error";
  if (code == "103") return "Table value not found";
  if (code == "104") return "Value too long";
  if (code == "200") return "Unsupported message type";
  if (code == "201") return "Unsupported event code";
  if (code == "202") return "Unsupported processing id";
  if (code == "203") return "Unsupported version id";
  return "Application internal error";
}

severity severity_of(error e) noexcept { return info(e).weight; }

ack_effect effect_of(error e) noexcept { return info(e).effect; }

std::string_view describe(error e) noexcept { return info(e).text; }

std::string_view name(severity s) noexcept {
  switch (s) {
    case severity::error:
      return "error";
    case severity::warning:
      return "warning";
    case severity::information:
      return "information";
  }
  return "error";
}

}  // namespace covgate::hl7v2
