// The reason codes of the policy (docs/policy.md §5): a public contract that users' routing
// rules and tests depend on, so each is an enumerator checked at compile time, never a string
// compared at run time. Each reason has one row in the reason table: the outcome it produces,
// its 277 STC category and status codes, and the plain sentence a biller reads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "covgate/model/outcome.hpp"

namespace covgate::model {

enum class reason : std::uint8_t {
  scope_not_infusion_pump,                ///< scope.not-infusion-pump
  modifier_expected_denial,               ///< modifier.expected-denial
  modifier_missing,                       ///< modifier.missing
  claim_member_id_missing,                ///< claim.member-id-missing
  claim_service_date_missing,             ///< claim.service-date-missing
  claim_diagnosis_missing,                ///< claim.diagnosis-missing
  csii_setting_not_home,                  ///< csii.setting.not-home
  csii_setting_unknown,                   ///< csii.setting.unknown
  csii_insulinopenia_missing,             ///< csii.insulinopenia.missing
  csii_c_peptide_not_fasting,             ///< csii.c-peptide.not-fasting
  csii_c_peptide_no_reference_range,      ///< csii.c-peptide.no-reference-range
  csii_c_peptide_glucose_missing,         ///< csii.c-peptide.glucose-missing
  csii_c_peptide_glucose_too_high,        ///< csii.c-peptide.glucose-too-high
  csii_c_peptide_above_threshold,         ///< csii.c-peptide.above-threshold
  csii_c_peptide_renal_unproven,          ///< csii.c-peptide.renal-unproven
  csii_c_peptide_egfr_only,               ///< csii.c-peptide.egfr-only
  lab_unit_unknown,                       ///< lab.unit-unknown
  csii_criterion_a_education,             ///< csii.criterion-a.education
  csii_criterion_a_mdi,                   ///< csii.criterion-a.mdi
  csii_criterion_a_smbg,                  ///< csii.criterion-a.smbg
  csii_criterion_a_marker,                ///< csii.criterion-a.marker
  csii_criterion_b_smbg,                  ///< csii.criterion-b.smbg
  csii_criterion_b_missing,               ///< csii.criterion-b.missing
  csii_followup_missing,                  ///< csii.followup.missing
  csii_followup_not_physician,            ///< csii.followup.not-physician
  csii_prior_auth_missing,                ///< csii.prior-auth.missing
  rereview_overdue,                       ///< rereview.overdue
  external_heparin_home,                  ///< external.heparin.home
  external_heparin_setting_unclear,       ///< external.heparin.setting-unclear
  external_chemo_resectability_missing,   ///< external.chemo.resectability-missing
  external_chemo_diagnosis_unlisted,      ///< external.chemo.diagnosis-unlisted
  external_morphine_cancer_pain_missing,  ///< external.morphine.cancer-pain-missing
  external_excluded_drug,                 ///< external.excluded-drug
  external_indication_unlisted,           ///< external.indication-unlisted
  implantable_excluded,                   ///< implantable.excluded
  implantable_review,                     ///< implantable.review
};

inline constexpr std::size_t reason_count =
    static_cast<std::size_t>(reason::implantable_review) + 1;

/// One reason and the answer it produces.
struct reason_info {
  reason id;
  std::string_view code;          ///< e.g. csii.c-peptide.not-fasting (never renamed)
  outcome result;                 ///< the outcome a finding of this reason gives its line
  std::string_view category;      ///< STC01-1
  std::string_view status;        ///< STC01-2
  std::string_view extra_status;  ///< a second status code, or ""
  std::string_view message;       ///< plain English for a biller; no patient values
};

namespace detail {
/// The rows, in enumerator order (defined, and checked at compile time, in reason.cpp).
extern const std::array<reason_info, reason_count> reason_table;
}  // namespace detail

/// The row of `r` (every reason has one). Inline: the evaluator, the 277 writer and the
/// decision line ask it dozens of times a claim.
[[nodiscard]] inline const reason_info& info(reason r) noexcept {
  return detail::reason_table[static_cast<std::size_t>(r)];
}
/// The reason's code ("csii.insulinopenia.missing").
[[nodiscard]] inline std::string_view code(reason r) noexcept { return info(r).code; }
/// The reason with `code`, or nullopt for a code that is not in the table.
[[nodiscard]] std::optional<reason> reason_named(std::string_view code) noexcept;
/// Every row, in enumerator order.
[[nodiscard]] std::span<const reason_info> reasons() noexcept;

}  // namespace covgate::model
