// The loop structure of the 837P (005010X222A1) and 837I (005010X223A2) guides as data: which
// segments each loop holds, in which order, how often, and which loops nest in it. Drawn from
// the public structure of the guides (stupidedi's X222A1/X223A2 definitions list the same
// loops); element-level rules live in element_rules.cpp.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "covgate/x12/segment.hpp"

namespace covgate::x12::schema {

enum class loop : std::uint8_t {
  header,
  submitter_1000a,
  receiver_1000b,
  billing_2000a,
  billing_provider_2010aa,
  pay_to_2010ab,
  pay_to_plan_2010ac,
  subscriber_2000b,
  subscriber_name_2010ba,
  payer_2010bb,
  patient_2000c,
  patient_name_2010ca,
  claim_2300,
  claim_provider_2310,
  attending_2310a,
  rendering_2310b,
  other_subscriber_2320,
  other_subscriber_party_2330,
  line_2400,
  drug_2410,
  line_provider_2420,
  line_rendering_2420a,
  ordering_2420e,
  line_adjudication_2430,
  form_2440,
};

/// The loop id as the guides name it (2010AA…), for IK303.
std::string_view loop_name(loop id, bool institutional) noexcept;

struct loop_def;

/// The most entries one loop may have; the walker keeps a counter per entry in a fixed array.
inline constexpr std::size_t max_loop_entries = 32;

/// One position in a loop: a segment, or a nested loop whose first segment is `id`.
struct entry {
  constexpr entry() = default;
  constexpr entry(std::string_view id_in, std::string_view qualifiers_in,
                  std::uint8_t qualifier_element_in, bool required_in, std::uint16_t max_in,
                  const loop_def* child_in = nullptr)
      : id(id_in),
        key(segment_key(id_in)),
        qualifiers(qualifiers_in),
        qualifier_element(qualifier_element_in),
        required(required_in),
        max(max_in),
        child(child_in) {}

  std::string_view id;
  std::uint32_t key = 0;        ///< segment_key(id)
  std::string_view qualifiers;  ///< comma-separated values of `qualifier_element`, or ""
  std::uint8_t qualifier_element = 1;
  bool required = false;
  std::uint16_t max = 1;            ///< 0 = no limit
  const loop_def* child = nullptr;  ///< set when this entry starts a nested loop
};

struct loop_def {
  loop id;
  std::span<const entry> entries;  ///< entries[0] is the loop's own first segment
};

/// The root loop (ST..SE) of each guide.
const loop_def& professional_root() noexcept;
const loop_def& institutional_root() noexcept;

/// True when `qualifiers` (comma-separated) contains `value`.
constexpr bool in_list(std::string_view qualifiers, std::string_view value) noexcept {
  while (!qualifiers.empty()) {
    const auto cut = qualifiers.find(',');
    if (qualifiers.substr(0, cut) == value) return true;
    if (cut == std::string_view::npos) break;
    qualifiers.remove_prefix(cut + 1);
  }
  return false;
}

}  // namespace covgate::x12::schema
