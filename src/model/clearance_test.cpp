#include "covgate/model/clearance.hpp"

#include <doctest/doctest.h>

using namespace covgate;
using namespace covgate::model;

namespace {

lab_result lab(lab_kind kind, double value, const char* id = "Observation/x") {
  lab_result r;
  r.resource_id = id;
  r.patient_key = "K";
  r.kind = kind;
  r.has_value = true;
  r.value = value;
  r.unit_known = true;
  r.effective = *parse_fhir_datetime("2026-03-01");
  r.status = "final";
  return r;
}

patient person(char sex, date birth) {
  patient p;
  p.key = "K";
  p.sex = sex;
  p.birth_date = birth;
  return p;
}

}  // namespace

TEST_SUITE("model.clearance") {
  TEST_CASE("computes Cockcroft-Gault with the female factor and marks it computed") {
    const auto creatinine = lab(lab_kind::serum_creatinine, 1.2, "Observation/cr");
    const auto weight = lab(lab_kind::body_weight, 72);
    // Age 70 on 2026-03-01 (birthday 1956-03-01): (140-70) × 72 / (72 × 1.2) = 58.33…
    const auto man = cockcroft_gault(person('M', {1956, 3, 1}), creatinine, weight);
    REQUIRE(man);
    CHECK(man->value == doctest::Approx(58.3333));
    CHECK(man->kind == lab_kind::creatinine_clearance);
    CHECK(man->origin == provenance::computed);
    CHECK(man->resource_id == "Observation/cr#cockcroft-gault");
    const auto woman = cockcroft_gault(person('F', {1956, 3, 1}), creatinine, weight);
    CHECK(woman->value == doctest::Approx(58.3333 * 0.85));
  }

  TEST_CASE("age counts whole years at the creatinine's date") {
    CHECK(age_in_years({1956, 3, 2}, {2026, 3, 1}) == 69);
    CHECK(age_in_years({1956, 3, 1}, {2026, 3, 1}) == 70);
  }

  TEST_CASE("refuses unusable inputs instead of guessing") {
    const auto creatinine = lab(lab_kind::serum_creatinine, 1.2);
    const auto weight = lab(lab_kind::body_weight, 72);
    CHECK_FALSE(cockcroft_gault(person('U', {1956, 3, 1}), creatinine, weight));
    CHECK_FALSE(cockcroft_gault(person('M', {}), creatinine, weight));
    CHECK_FALSE(cockcroft_gault(person('M', {2010, 1, 1}), creatinine, weight));
    auto unknown_unit = creatinine;
    unknown_unit.unit_known = false;
    CHECK_FALSE(cockcroft_gault(person('M', {1956, 3, 1}), unknown_unit, weight));
    CHECK_FALSE(cockcroft_gault(person('M', {1956, 3, 1}), weight, creatinine));
  }
}
