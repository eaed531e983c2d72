// Element-level rules of the 837 guides for the segments the gate reads: required elements,
// code lists, dates and numbers. Checked only for segments the loop schema placed.
#pragma once

#include <vector>

#include "covgate/x12/interchange_reader.hpp"
#include "covgate/x12/segment.hpp"

namespace covgate::x12 {

/// Appends an element_finding for every rule `seg` breaks. `institutional` selects the 837I
/// variants (CLM05-2 = A instead of B).
void check_elements(const segment& seg, bool institutional, std::vector<element_finding>& out);

/// True when `text` is an X12 R (decimal) value: optional minus, digits, one optional point.
bool is_decimal(std::string_view text) noexcept;

}  // namespace covgate::x12
