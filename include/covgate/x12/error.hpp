// Every way an X12 interchange can be wrong, as one error enum registered with
// std::error_category, and the acknowledgment code each one produces.
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

namespace covgate::x12 {

/// Where an error is answered: which acknowledgment segment carries its code.
enum class ack_level : std::uint8_t {
  interchange,  ///< TA1 (TA105)
  group,        ///< 999 AK9 (AK905..AK909)
  set,          ///< 999 IK5 (IK502..IK506)
  segment,      ///< 999 IK3 (IK304)
  element,      ///< 999 IK4 (IK403)
};

enum class error : std::uint8_t {
  // Interchange level (TA1).
  isa_not_found = 1,                   ///< no ISA segment in the input
  isa_element_width,                   ///< an ISA element is not its fixed width
  invalid_element_separator,           ///< ISA byte 3 alphanumeric or reused
  invalid_component_separator,         ///< ISA16 alphanumeric or equal to another delimiter
  invalid_segment_terminator,          ///< terminator alphanumeric or equal to another delimiter
  invalid_repetition_separator,        ///< ISA11 equal to another delimiter (00402 and later)
  unsupported_interchange_version,     ///< ISA12 is not 00501 (e.g. 4010)
  invalid_interchange_control_number,  ///< ISA13 is not nine digits
  interchange_control_mismatch,        ///< IEA02 differs from ISA13
  group_count_mismatch,                ///< IEA01 differs from the number of groups
  duplicate_interchange,               ///< ISA13 already seen from this sender
  interchange_trailer_missing,         ///< input ended (or a new ISA began) before IEA
  data_outside_interchange,            ///< non-blank bytes between IEA and the next ISA
  invalid_control_structure,           ///< ST or a segment outside a group, GE or IEA misplaced
  invalid_authorization_qualifier,     ///< ISA01 is not 00 or 03
  invalid_security_qualifier,          ///< ISA03 is not 00 or 01
  invalid_sender_qualifier,            ///< ISA05 is not an interchange id qualifier
  invalid_receiver_qualifier,          ///< ISA07 is not an interchange id qualifier
  invalid_ack_requested,               ///< ISA14 is not 0 or 1
  invalid_usage_indicator,             ///< ISA15 is not P or T
  // Functional group level (999 AK9).
  group_not_supported,          ///< GS01 is not HC
  group_version_not_supported,  ///< GS08 is not a supported 837 implementation
  group_trailer_missing,        ///< GE missing before IEA or end of input
  group_control_mismatch,       ///< GE02 differs from GS06
  set_count_mismatch,           ///< GE01 differs from the number of sets
  // Transaction set level (999 IK5).
  set_not_supported,             ///< ST01 is not 837
  set_trailer_missing,           ///< SE missing before GE, IEA or end of input
  set_control_mismatch,          ///< SE02 differs from ST02
  segment_count_mismatch,        ///< SE01 differs from the segments counted (ST..SE)
  set_control_not_unique,        ///< ST02 repeats within the group
  implementation_not_supported,  ///< ST03 names a guide other than 837P/837I 5010
  segments_in_error,             ///< one or more segments had errors
  // Segment level (999 IK3).
  unrecognized_segment_id,     ///< the segment id is not 2-3 upper-case letters/digits
  unexpected_segment,          ///< a known segment where the guide has no place for it
  required_segment_missing,    ///< a required segment or loop is absent
  loop_over_maximum,           ///< a loop repeats more often than allowed
  segment_over_maximum_use,    ///< a segment repeats more often than allowed
  segment_not_in_sequence,     ///< a segment appears after its place in the loop
  segment_has_element_errors,  ///< one or more elements are wrong (details in IK4)
  segment_too_long,            ///< over the configured segment length limit
  too_many_segments,           ///< over the configured segments per set
  too_many_claims,             ///< over the configured claims per set
  // Element level (999 IK4).
  required_element_missing,
  too_many_elements,
  element_too_long,
  invalid_character,
  invalid_code_value,
  invalid_date,
  invalid_number,
  invalid_hierarchy,  ///< HL01 not 1, 2, 3 in order, or HL02 names no valid parent
  element_too_short,
  invalid_time,
  too_many_components,
  not_used_element_present,  ///< a value in an element the guide marks Not Used (I10)
};

/// The first and last enumerator, for tests that walk them all.
inline constexpr error first_error = error::isa_not_found;
inline constexpr error last_error = error::not_used_element_present;

/// The std::error_category for x12::error ("covgate.x12").
[[nodiscard]] const std::error_category& x12_category() noexcept;

[[nodiscard]] inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), x12_category()};
}

/// Which acknowledgment segment answers this error.
[[nodiscard]] ack_level level_of(error e) noexcept;

/// The code the acknowledgment carries: TA105 (e.g. "001"), AK905 ("5"), IK502 ("4"),
/// IK304 ("7") or IK403 ("7"), depending on level_of(e).
[[nodiscard]] std::string_view ack_code(error e) noexcept;

/// A short English description that names no data values (safe for logs).
[[nodiscard]] std::string_view describe(error e) noexcept;

/// TA105 for an ISA element (1..16) that is not its fixed width.
[[nodiscard]] std::string_view ta1_code_for_isa_element(int element) noexcept;

}  // namespace covgate::x12

template <>
struct std::is_error_code_enum<covgate::x12::error> : std::true_type {};
