// The coded vocabulary facts are written in: what a lab result measures and what kind of
// provider saw the patient. The mapping tables translate wire codes (LOINC, NUCC, v2-0360)
// into these; the model and the policy only ever see these.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace covgate::model {

enum class lab_kind : std::uint8_t {
  unknown,
  c_peptide,
  c_peptide_fasting,
  fasting_glucose,
  glucose,
  creatinine_clearance,
  serum_creatinine,
  egfr,
  gad65_antibody,
  ia2_antibody,
  insulin_antibody,
  znt8_antibody,
  islet_cell_antibody,
  hba1c,
  body_weight,
};

/// "c-peptide", "fasting-glucose"… as in loinc.json; "unknown" for lab_kind::unknown.
[[nodiscard]] std::string_view name(lab_kind kind) noexcept;
[[nodiscard]] std::optional<lab_kind> lab_kind_named(std::string_view name) noexcept;
/// True for the beta-cell autoantibody kinds.
[[nodiscard]] bool is_autoantibody(lab_kind kind) noexcept;

enum class provider_type : std::uint8_t {
  unknown,
  physician,
  nurse_practitioner,
  physician_assistant,
  clinical_nurse_specialist,
  other,
};
[[nodiscard]] std::string_view name(provider_type t) noexcept;
[[nodiscard]] std::optional<provider_type> provider_type_named(std::string_view name) noexcept;

}  // namespace covgate::model
