#include "covgate/model/clearance.hpp"

namespace covgate::model {

int age_in_years(const date& birth, const date& on) noexcept {
  int age = on.year - birth.year;
  if (on.month < birth.month || (on.month == birth.month && on.day < birth.day)) --age;
  return age;
}

std::optional<lab_result> cockcroft_gault(const patient& who, const lab_result& creatinine,
                                          const lab_result& weight) {
  using model::lab_kind;
  if (creatinine.kind != lab_kind::serum_creatinine || weight.kind != lab_kind::body_weight) {
    return std::nullopt;
  }
  if (!creatinine.has_value || !creatinine.unit_known || !weight.has_value || !weight.unit_known ||
      creatinine.value <= 0 || weight.value <= 0) {
    return std::nullopt;
  }
  if ((who.sex != 'F' && who.sex != 'M') || !who.birth_date.valid() ||
      !creatinine.effective.valid()) {
    return std::nullopt;
  }
  const int age = age_in_years(who.birth_date, creatinine.effective.day);
  if (age < 18) return std::nullopt;  // the formula is for adults
  double clearance = (140.0 - age) * weight.value / (72.0 * creatinine.value);
  if (who.sex == 'F') clearance *= 0.85;
  lab_result out;
  out.resource_id = creatinine.resource_id + "#cockcroft-gault";
  out.patient = creatinine.patient;
  out.patient_key = creatinine.patient_key;
  out.kind = lab_kind::creatinine_clearance;
  out.has_value = true;
  out.value = clearance;
  out.unit = "mL/min";
  out.original_value = clearance;
  out.original_unit = "mL/min";
  out.unit_known = true;
  out.effective = creatinine.effective;
  out.status = creatinine.status;
  out.origin = provenance::computed;
  return out;
}

}  // namespace covgate::model
