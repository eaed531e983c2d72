// The shipped tables and policy, parsed once, and a FHIR-date helper, for policy and engine
// tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "covgate/engine/state.hpp"
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

/// A docs/policy.md §8 evidence item, boolean or quantity, dated 2026-01-10 unless told.
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

/// An insulin-pump (E0784, KX) claim at home for the test patient, DOS 2026-04-01, with a prior
/// authorization.
inline model::claim pump_claim(const char* id = "PUMP001", char frequency = '1') {
  model::claim c;
  c.id = id;
  c.frequency = frequency;
  c.place_of_service = "12";
  c.subscriber.member_id = test_patient_key;
  c.diagnoses = {{"ABK", "E1065"}};
  c.prior_authorization = "PA1";
  model::service_line line;
  line.number = 1;
  line.procedure_code = "E0784";
  line.modifiers = {"KX"};
  line.service_dates = {{2026, 4, 1}, {2026, 4, 1}};
  c.lines.push_back(line);
  return c;
}

// The pump claim under `id` as a store keeps it: decided `result`, from an MLLP message.
inline engine::claim_record stored_claim(const char* id,
                                         model::outcome result = model::outcome::release) {
  engine::claim_record r;
  r.claim = pump_claim(id);
  r.decision.claim_id = id;
  r.decision.result = result;
  r.source = "mllp:1";
  return r;
}

/// Everything pump_claim() needs to be released: a fasting C-peptide at 62.5 % of its LLN with a
/// concurrent fasting glucose, criterion A (education, MDI, SMBG, HbA1c 8.2 %) and a physician
/// visit on 2026-03-15. Each fact stands alone, so tests can send them in any order.
inline std::vector<model::fact> documentation() {
  model::encounter visit;
  visit.resource_id = "Encounter/v1";
  visit.patient_key = test_patient_key;
  visit.status = "finished";
  visit.class_code = "AMB";
  visit.start = at("2026-03-15");
  visit.participants.push_back({"Practitioner/d", mapping::provider_type::physician, {}});
  return {lab("Observation/cpep", mapping::lab_kind::c_peptide_fasting, 0.5, "ng/mL",
              "2026-03-01T08:00:00Z", 0.8),
          lab("Observation/glu", mapping::lab_kind::fasting_glucose, 110, "mg/dL",
              "2026-03-01T07:55:00Z"),
          lab("Observation/a1c", mapping::lab_kind::hba1c, 8.2, "%", "2026-02-20"),
          evidence("diabetes-education-completed", true),
          evidence("mdi-injections-per-day", 4.0),
          evidence("mdi-duration-months", 12.0),
          evidence("smbg-per-day", 4.0),
          visit};
}

}  // namespace covgate::test
