// Element-level rules of the 837 guides: for the segment position the walker placed a segment
// at, every element is checked for its usage (required, situational, Not Used), its data type
// and length (the X12 dictionary), its character set and its code list (the guide).
#pragma once

#include <string_view>
#include <vector>

#include "covgate/x12/interchange_reader.hpp"
#include "covgate/x12/segment.hpp"
#include "schema_837.hpp"

namespace covgate::x12 {

/// Appends an element_finding for every rule of `entry` (the position the walker placed `seg`
/// at) that `seg` breaks, in element order. Findings a `lenient` switch covers do not reject.
/// No allocation unless a finding is appended.
void check_elements(const segment& seg, const schema::entry& entry, leniency lenient,
                    std::vector<element_finding>& out);

/// True when `text` is an X12 R (decimal) value: optional minus, digits, one optional point.
bool is_decimal(std::string_view text) noexcept;

/// True when every character of `text` may appear in X12 data: printable ASCII (the basic and
/// extended character sets) or well-formed UTF-8 beyond ASCII. Control characters (NUL, CR,
/// LF, 0x0B, 0x1C…) and malformed UTF-8 may not.
bool valid_characters(std::string_view text) noexcept;

}  // namespace covgate::x12
