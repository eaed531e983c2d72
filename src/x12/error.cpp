#include "covgate/x12/error.hpp"

#include <array>
#include <string>

namespace covgate::x12 {
namespace {

struct error_info {
  error value;
  ack_level level;
  std::string_view code;
  std::string_view text;
};

// One row per enumerator, in enumerator order: the single place that maps an error to its reply.
constexpr std::array error_table{
    error_info{error::isa_not_found, ack_level::interchange, "024", "no ISA segment found"},
    error_info{error::isa_element_width, ack_level::interchange, "024",
               "an ISA element is not its fixed width"},
    error_info{error::invalid_element_separator, ack_level::interchange, "026",
               "invalid data element separator"},
    error_info{error::invalid_component_separator, ack_level::interchange, "027",
               "invalid component element separator"},
    error_info{error::invalid_segment_terminator, ack_level::interchange, "004",
               "invalid segment terminator"},
    error_info{error::invalid_repetition_separator, ack_level::interchange, "024",
               "ISA11 repetition separator is a letter or equals another delimiter"},
    error_info{error::unsupported_interchange_version, ack_level::interchange, "003",
               "interchange control version not supported (only 00501)"},
    error_info{error::invalid_interchange_control_number, ack_level::interchange, "018",
               "interchange control number is not nine digits"},
    error_info{error::interchange_control_mismatch, ack_level::interchange, "001",
               "IEA02 does not match ISA13"},
    error_info{error::group_count_mismatch, ack_level::interchange, "021",
               "IEA01 does not match the number of functional groups"},
    error_info{error::duplicate_interchange, ack_level::interchange, "025",
               "duplicate interchange control number from this sender"},
    error_info{error::interchange_trailer_missing, ack_level::interchange, "023",
               "interchange ended without IEA"},
    error_info{error::data_outside_interchange, ack_level::interchange, "024",
               "data between interchanges"},
    error_info{error::invalid_control_structure, ack_level::interchange, "022",
               "segment outside the GS/ST envelope it needs"},
    error_info{error::invalid_authorization_qualifier, ack_level::interchange, "010",
               "ISA01 authorization information qualifier is not 00 or 03"},
    error_info{error::invalid_security_qualifier, ack_level::interchange, "012",
               "ISA03 security information qualifier is not 00 or 01"},
    error_info{error::invalid_sender_qualifier, ack_level::interchange, "005",
               "ISA05 interchange sender id qualifier is not a valid code"},
    error_info{error::invalid_receiver_qualifier, ack_level::interchange, "007",
               "ISA07 interchange receiver id qualifier is not a valid code"},
    error_info{error::invalid_ack_requested, ack_level::interchange, "019",
               "ISA14 acknowledgment requested is not 0 or 1"},
    error_info{error::invalid_usage_indicator, ack_level::interchange, "020",
               "ISA15 usage indicator is not P or T"},
    error_info{error::group_not_supported, ack_level::group, "1",
               "functional group not supported (GS01 must be HC)"},
    error_info{error::group_version_not_supported, ack_level::group, "2",
               "functional group version not supported"},
    error_info{error::group_trailer_missing, ack_level::group, "3", "functional group without GE"},
    error_info{error::group_control_mismatch, ack_level::group, "4", "GE02 does not match GS06"},
    error_info{error::set_count_mismatch, ack_level::group, "5",
               "GE01 does not match the number of transaction sets"},
    error_info{error::set_not_supported, ack_level::set, "1",
               "transaction set not supported (ST01 must be 837)"},
    error_info{error::set_trailer_missing, ack_level::set, "2", "transaction set without SE"},
    error_info{error::set_control_mismatch, ack_level::set, "3", "SE02 does not match ST02"},
    error_info{error::segment_count_mismatch, ack_level::set, "4",
               "SE01 does not match the number of segments"},
    error_info{error::set_control_not_unique, ack_level::set, "23",
               "ST02 is not unique within the functional group"},
    error_info{error::implementation_not_supported, ack_level::set, "I6",
               "implementation guide not supported (005010X222A1/X223A2 and errata)"},
    error_info{error::segments_in_error, ack_level::set, "5", "one or more segments in error"},
    error_info{error::unrecognized_segment_id, ack_level::segment, "1", "unrecognized segment id"},
    error_info{error::unexpected_segment, ack_level::segment, "2",
               "segment not expected at this point of the transaction set"},
    error_info{error::required_segment_missing, ack_level::segment, "3",
               "required segment missing"},
    error_info{error::loop_over_maximum, ack_level::segment, "4", "loop occurs over its maximum"},
    error_info{error::segment_over_maximum_use, ack_level::segment, "5",
               "segment exceeds its maximum use"},
    error_info{error::segment_not_in_sequence, ack_level::segment, "7",
               "segment not in proper sequence"},
    error_info{error::segment_has_element_errors, ack_level::segment, "8",
               "segment has data element errors"},
    error_info{error::segment_too_long, ack_level::segment, "8",
               "segment longer than the configured limit"},
    error_info{error::too_many_segments, ack_level::segment, "5",
               "transaction set has more segments than the configured limit"},
    error_info{error::too_many_claims, ack_level::segment, "4",
               "transaction set has more claims than the configured limit"},
    error_info{error::required_element_missing, ack_level::element, "1",
               "required data element missing"},
    error_info{error::too_many_elements, ack_level::element, "3", "too many data elements"},
    error_info{error::element_too_long, ack_level::element, "5", "data element too long"},
    error_info{error::invalid_character, ack_level::element, "6",
               "invalid character in data element"},
    error_info{error::invalid_code_value, ack_level::element, "7", "invalid code value"},
    error_info{error::invalid_date, ack_level::element, "8", "invalid date"},
    error_info{error::invalid_number, ack_level::element, "6", "invalid numeric value"},
    error_info{error::invalid_hierarchy, ack_level::element, "7",
               "HL01 does not count 1, 2, 3 in order, or HL02 names no valid parent"},
    error_info{error::element_too_short, ack_level::element, "4", "data element too short"},
    error_info{error::invalid_time, ack_level::element, "9", "invalid time"},
    error_info{error::too_many_components, ack_level::element, "13", "too many components"},
    error_info{error::not_used_element_present, ack_level::element, "I10",
               "a value in a data element the implementation guide marks Not Used"},
};

static_assert(error_table.size() == static_cast<std::size_t>(last_error));

constexpr bool table_in_order() {
  for (std::size_t i = 0; i < error_table.size(); ++i) {
    if (static_cast<std::size_t>(error_table[i].value) != i + 1) return false;
  }
  return true;
}
static_assert(table_in_order(), "error_table rows must follow the enumerator order");

const error_info* find(error e) noexcept {
  const auto index = static_cast<std::size_t>(e);
  return index >= 1 && index <= error_table.size() ? &error_table[index - 1] : nullptr;
}

class category final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "covgate.x12"; }
  [[nodiscard]] std::string message(int value) const override {
    return std::string{describe(static_cast<error>(value))};
  }
};

}  // namespace

const std::error_category& x12_category() noexcept {
  static const category instance;
  return instance;
}

ack_level level_of(error e) noexcept {
  const auto* info = find(e);
  return info ? info->level : ack_level::interchange;
}

std::string_view ack_code(error e) noexcept {
  const auto* info = find(e);
  return info ? info->code : "024";
}

std::string_view describe(error e) noexcept {
  const auto* info = find(e);
  return info ? info->text : "unknown X12 error";
}

std::string_view ta1_code_for_isa_element(int element) noexcept {
  // TA105 (I18) names a code for most ISA elements; the rest fall back to 024.
  constexpr std::array<std::string_view, 17> codes{"024", "010", "011", "012", "013", "005",
                                                   "006", "007", "008", "014", "015", "024",
                                                   "017", "018", "019", "020", "027"};
  return element >= 1 && element <= 16 ? codes[static_cast<std::size_t>(element)] : "024";
}

}  // namespace covgate::x12
