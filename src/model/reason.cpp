#include "covgate/model/reason.hpp"

#include <array>

namespace covgate::model {

// Hold categories: P3 documentation, P2 review and not-covered, A6 invalid (docs/policy.md §1).
constexpr std::array<reason_info, reason_count> detail::reason_table{{
    {reason::scope_not_infusion_pump, "scope.not-infusion-pump", outcome::release, "A2", "20", "",
     "No infusion-pump item on the claim: outside NCD 223."},
    {reason::modifier_expected_denial, "modifier.expected-denial", outcome::release, "A2", "20", "",
     "GA or GZ modifier: the supplier expects a denial; criteria were not checked."},
    {reason::modifier_missing, "modifier.missing", outcome::hold_invalid, "A6", "21", "453",
     "Infusion-pump line without a KX, GA or GZ modifier."},
    {reason::claim_member_id_missing, "claim.member-id-missing", outcome::hold_invalid, "A6", "21",
     "", "The subscriber member id (NM109) is missing."},
    {reason::claim_service_date_missing, "claim.service-date-missing", outcome::hold_invalid, "A6",
     "21", "", "An infusion-pump line has no date of service (DTP*472 or, for 837I, DTP*434)."},
    {reason::claim_diagnosis_missing, "claim.diagnosis-missing", outcome::hold_invalid, "A6", "21",
     "", "The claim carries no ICD-10-CM diagnosis."},
    {reason::csii_setting_not_home, "csii.setting.not-home", outcome::hold_not_covered, "P2", "268",
     "",
     "Insulin pump billed for an inpatient, SNF or nursing facility stay; CSII is covered at "
     "home."},
    {reason::csii_setting_unknown, "csii.setting.unknown", outcome::hold_review, "P2", "249", "",
     "Insulin pump billed with a place of service that is neither a home nor an institution."},
    {reason::csii_insulinopenia_missing, "csii.insulinopenia.missing", outcome::hold_documentation,
     "P3", "300", "",
     "No fasting C-peptide and no positive beta-cell autoantibody on file before the date of "
     "service."},
    {reason::csii_c_peptide_not_fasting, "csii.c-peptide.not-fasting", outcome::hold_documentation,
     "P3", "300", "",
     "The C-peptide is not shown to be fasting (no fasting specimen or concurrent fasting "
     "glucose)."},
    {reason::csii_c_peptide_no_reference_range, "csii.c-peptide.no-reference-range",
     outcome::hold_documentation, "P3", "300", "",
     "The C-peptide has no lower limit of normal (referenceRange.low) to compare with."},
    {reason::csii_c_peptide_glucose_missing, "csii.c-peptide.glucose-missing",
     outcome::hold_documentation, "P3", "300", "",
     "No fasting glucose drawn within the window of the C-peptide."},
    {reason::csii_c_peptide_glucose_too_high, "csii.c-peptide.glucose-too-high",
     outcome::hold_documentation, "P3", "300", "",
     "The fasting glucose drawn with the C-peptide is above the limit."},
    {reason::csii_c_peptide_above_threshold, "csii.c-peptide.above-threshold",
     outcome::hold_documentation, "P3", "300", "",
     "The fasting C-peptide is above the insulinopenia threshold of the lab's lower limit."},
    {reason::csii_c_peptide_renal_unproven, "csii.c-peptide.renal-unproven",
     outcome::hold_documentation, "P3", "300", "",
     "The C-peptide needs the renal allowance but no creatinine clearance is on file in the "
     "window."},
    {reason::csii_c_peptide_egfr_only, "csii.c-peptide.egfr-only", outcome::hold_review, "P2",
     "287", "",
     "Only an eGFR is on file for the renal allowance; eGFR is not creatinine clearance."},
    {reason::lab_unit_unknown, "lab.unit-unknown", outcome::hold_review, "P2", "46", "",
     "A lab result the rule needs has a unit covgate cannot convert."},
    {reason::csii_criterion_a_education, "csii.criterion-a.education", outcome::hold_documentation,
     "P3", "294", "", "Criterion A: completed diabetes education is not documented."},
    {reason::csii_criterion_a_mdi, "csii.criterion-a.mdi", outcome::hold_documentation, "P3", "409",
     "", "Criterion A: multiple daily injections (count and duration) are not documented."},
    {reason::csii_criterion_a_smbg, "csii.criterion-a.smbg", outcome::hold_documentation, "P3",
     "294", "", "Criterion A: self-monitoring of blood glucose frequency is not documented."},
    {reason::csii_criterion_a_marker, "csii.criterion-a.marker", outcome::hold_documentation, "P3",
     "300", "",
     "Criterion A: no glycemic marker (HbA1c, hypoglycemia, fluctuations, dawn phenomenon, "
     "excursions) is documented."},
    {reason::csii_criterion_b_smbg, "csii.criterion-b.smbg", outcome::hold_documentation, "P3",
     "294", "",
     "Criterion B: glucose self-monitoring frequency before Medicare enrollment is not "
     "documented."},
    {reason::csii_criterion_b_missing, "csii.criterion-b.missing", outcome::hold_documentation,
     "P3", "294", "", "Criterion B: no pump use before Medicare enrollment is documented."},
    {reason::csii_followup_missing, "csii.followup.missing", outcome::hold_documentation, "P3",
     "387", "",
     "No finished follow-up visit with the treating physician in the window before the date "
     "of service."},
    {reason::csii_followup_not_physician, "csii.followup.not-physician",
     outcome::hold_documentation, "P3", "387", "147",
     "The only follow-up visits in the window were not with a physician."},
    {reason::csii_prior_auth_missing, "csii.prior-auth.missing", outcome::hold_documentation, "P3",
     "252", "", "Initial insulin-pump treatment without a prior authorization number."},
    {reason::rereview_overdue, "rereview.overdue", outcome::hold_documentation, "P3", "294", "",
     "No clinical record (visit, lab or evidence) within the re-review period before the date "
     "of service."},
    {reason::external_heparin_home, "external.heparin.home", outcome::hold_not_covered, "P2", "268",
     "", "Heparin by external pump is covered in an institution only; billed at home."},
    {reason::external_heparin_setting_unclear, "external.heparin.setting-unclear",
     outcome::hold_review, "P2", "249", "",
     "Heparin by external pump billed in a setting that is not clearly institutional."},
    {reason::external_chemo_resectability_missing, "external.chemo.resectability-missing",
     outcome::hold_documentation, "P3", "297", "",
     "Liver chemotherapy: unresectable tumor or refused surgery is not documented."},
    {reason::external_chemo_diagnosis_unlisted, "external.chemo.diagnosis-unlisted",
     outcome::hold_review, "P2", "46", "",
     "Chemotherapy by external pump without a liver cancer diagnosis the NCD lists."},
    {reason::external_morphine_cancer_pain_missing, "external.morphine.cancer-pain-missing",
     outcome::hold_documentation, "P3", "294", "",
     "Morphine by external pump: intractable cancer pain is not documented."},
    {reason::external_excluded_drug, "external.excluded-drug", outcome::hold_not_covered, "P2",
     "287", "", "The drug is nationally non-covered by external pump."},
    {reason::external_indication_unlisted, "external.indication-unlisted", outcome::hold_review,
     "P2", "46", "", "External pump for an indication or drug NCD 223 does not decide."},
    {reason::implantable_excluded, "implantable.excluded", outcome::hold_not_covered, "P2", "287",
     "", "Heparin or insulin by implantable pump is not covered."},
    {reason::implantable_review, "implantable.review", outcome::hold_review, "P2", "46", "",
     "Implantable pump: a person reviews it unless every criterion is documented."},
}};

namespace {

constexpr bool in_enumerator_order() {
  for (std::size_t i = 0; i < detail::reason_table.size(); ++i) {
    if (static_cast<std::size_t>(detail::reason_table[i].id) != i) return false;
  }
  return true;
}
static_assert(in_enumerator_order(), "one row per reason, in enumerator order");

}  // namespace

std::optional<reason> reason_named(std::string_view text) noexcept {
  for (const auto& row : detail::reason_table) {
    if (row.code == text) return row.id;
  }
  return std::nullopt;
}

std::span<const reason_info> reasons() noexcept { return detail::reason_table; }

}  // namespace covgate::model
