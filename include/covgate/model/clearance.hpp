// Creatinine clearance computed by Cockcroft–Gault, which docs/policy.md §4.2 accepts in place of a
// measured clearance (eGFR is not clearance). Which creatinine and weight may be combined (the
// window around the C-peptide) is the policy's decision; this only does the arithmetic.
#pragma once

#include <optional>

#include "covgate/model/facts.hpp"

namespace covgate::model {

/// CrCl (mL/min) = (140 − age) × weight (kg) ÷ (72 × serum creatinine (mg/dL)), × 0.85 for a
/// woman. Age is in whole years at the creatinine's date. Returns a lab_result of kind
/// creatinine_clearance, provenance computed, dated like the creatinine, with resource id
/// "<creatinine id>#cockcroft-gault"; nullopt when an input is missing or unusable (unknown
/// unit, sex not F/M, no birth date, non-positive values, age under 18).
[[nodiscard]] std::optional<lab_result> cockcroft_gault(const patient& who,
                                                        const lab_result& creatinine,
                                                        const lab_result& weight);

/// Whole years between `birth` and `on`.
[[nodiscard]] int age_in_years(const date& birth, const date& on) noexcept;

}  // namespace covgate::model
