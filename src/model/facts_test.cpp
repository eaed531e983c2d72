#include "covgate/model/facts.hpp"

#include <doctest/doctest.h>

using namespace covgate::model;

TEST_SUITE("model.facts") {
  TEST_CASE("a resource of no patient is a Practitioner or a PractitionerRole, by its type") {
    CHECK(names_no_patient(std::string_view("Practitioner/1")));
    CHECK(names_no_patient(std::string_view("PractitionerRole/r-2")));
    CHECK(names_no_patient(std::string_view("Practitioner/")));
    for (const std::string_view other :
         {"Patient/1", "Observation/Practitioner", "Practitioner", "PractitionerRoleX/1",
          "Practitioners/1", "practitioner/1", "/Practitioner", ""}) {
      CAPTURE(other);
      CHECK_FALSE(names_no_patient(other));
    }
  }

  TEST_CASE("a fact names no patient when its resource does: the retraction of one too") {
    practitioner doctor;
    doctor.resource_id = "Practitioner/d";
    practitioner_role role;
    role.resource_id = "PractitionerRole/r";
    retraction doctor_gone{"Practitioner/d", "", ""};
    retraction lab_gone{"Observation/o", "Patient/1", "K"};
    lab_result lab;
    lab.resource_id = "Observation/o";
    patient person;
    person.resource_id = "Patient/1";
    CHECK(names_no_patient(fact{doctor}));
    CHECK(names_no_patient(fact{role}));
    CHECK(names_no_patient(fact{doctor_gone}));
    CHECK_FALSE(names_no_patient(fact{lab_gone}));
    CHECK_FALSE(names_no_patient(fact{lab}));
    CHECK_FALSE(names_no_patient(fact{person}));
  }
}
