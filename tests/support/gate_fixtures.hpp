// The shipped tables and policy, parsed once, and a FHIR-date helper, for policy and engine
// tests.
#pragma once

#include <optional>
#include <string>

#include "covgate/mapping/tables.hpp"
#include "covgate/model/facts.hpp"
#include "covgate/policy/policy.hpp"

namespace covgate::test {

inline const mapping::tables& shipped_tables() {
  static const auto t = mapping::tables::parse(mapping::embedded_sources());
  return t;
}

inline const policy::policy_file& shipped_ncd223() {
  static const auto p = policy::policy_file::parse(policy::embedded_ncd223());
  return p;
}

inline model::moment at(const char* text) { return *model::parse_fhir_datetime(text); }

/// The patient every policy and engine scenario is about.
inline constexpr const char* test_patient_key = "1EG4TE5MK73";

/// A final lab result in a known canonical unit; fasting when its kind says so.
inline model::lab_result lab(const char* id, mapping::lab_kind kind, double value, const char* unit,
                             const char* when, std::optional<double> low = std::nullopt) {
  model::lab_result r;
  r.resource_id = id;
  r.patient = "Patient/p";
  r.patient_key = test_patient_key;
  r.kind = kind;
  r.has_value = true;
  r.value = value;
  r.unit = unit;
  r.unit_known = true;
  r.low = low;
  r.effective = at(when);
  r.status = "final";
  if (kind == mapping::lab_kind::c_peptide_fasting) r.fasting = model::fasting_state::fasting;
  return r;
}

/// A POLICY.md §5 evidence item, boolean or quantity, dated 2026-01-10 unless told.
inline model::evidence evidence(const char* code, bool flag, const char* when = "2026-01-10") {
  model::evidence e;
  e.resource_id = std::string("Observation/") + code;
  e.patient_key = test_patient_key;
  e.code = code;
  e.value_type = "boolean";
  e.flag = flag;
  e.effective = at(when);
  return e;
}

inline model::evidence evidence(const char* code, double number, const char* when = "2026-01-10") {
  auto e = evidence(code, true, when);
  e.value_type = "quantity";
  e.number = number;
  return e;
}

}  // namespace covgate::test
