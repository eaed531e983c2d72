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

TEST_SUITE("model.fhir_datetime") {
  // Minutes since 1970-01-01T00:00Z of a UTC day and time, to compare parses against.
  std::int64_t minutes_of(date day, int hour = 0, int minute = 0) {
    return std::int64_t{day.days_since_epoch()} * 1440 + hour * 60 + minute;
  }

  TEST_CASE("every precision FHIR allows, a partial date at its first day") {
    const auto year = parse_fhir_datetime("2026");
    REQUIRE(year);
    CHECK(year->day == date{2026, 1, 1});
    CHECK_FALSE(year->has_time);
    CHECK(year->utc_minutes == minutes_of({2026, 1, 1}));
    CHECK(parse_fhir_datetime("2026-07")->day == date{2026, 7, 1});
    const auto minute = parse_fhir_datetime("2026-07-04T23:59Z");
    REQUIRE(minute);
    CHECK(minute->has_time);
    CHECK(minute->utc_minutes == minutes_of({2026, 7, 4}, 23, 59));
    // An offset moves the instant, not the calendar day written.
    const auto east = parse_fhir_datetime("2026-07-04T01:15:00+05:30");
    REQUIRE(east);
    CHECK(east->day == date{2026, 7, 4});
    CHECK(east->utc_minutes == minutes_of({2026, 7, 3}, 19, 45));
    const auto west = parse_fhir_datetime("2026-12-31T23:00:00-02:00");
    REQUIRE(west);
    CHECK(west->utc_minutes == minutes_of({2027, 1, 1}, 1, 0));
    // Seconds (a leap second too) and fractions are read past, not kept.
    CHECK(parse_fhir_datetime("2026-07-04T10:00:60Z")->utc_minutes == minutes_of({2026, 7, 4}, 10));
    CHECK(parse_fhir_datetime("2026-07-04T10:00:59.123456789Z")->utc_minutes ==
          minutes_of({2026, 7, 4}, 10));
    CHECK(parse_fhir_datetime("2026-07-04T10:00:00")->has_time);  // no zone: taken as UTC
  }

  TEST_CASE("the calendar is checked: leap days, month lengths, no year 0") {
    CHECK(parse_fhir_datetime("2024-02-29"));
    CHECK(parse_fhir_datetime("2000-02-29"));
    CHECK_FALSE(parse_fhir_datetime("1900-02-29"));
    CHECK_FALSE(parse_fhir_datetime("2026-02-29"));
    CHECK_FALSE(parse_fhir_datetime("2026-04-31"));
    CHECK(parse_fhir_datetime("2026-12-31"));
    CHECK_FALSE(parse_fhir_datetime("2026-12-32"));
    CHECK_FALSE(parse_fhir_datetime("2026-00-10"));
    CHECK_FALSE(parse_fhir_datetime("2026-01-00"));
    CHECK_FALSE(parse_fhir_datetime("0000"));
    CHECK_FALSE(parse_fhir_datetime("0000-01-01"));
    CHECK(parse_fhir_datetime("0001-01-01")->day == date{1, 1, 1});
    CHECK(parse_fhir_datetime("9999-12-31")->day == date{9999, 12, 31});
  }

  TEST_CASE("anything else is malformed, never read in part") {
    for (const std::string_view bad : {"",
                                       "202",
                                       "20260",
                                       "2026-",
                                       "2026-1",
                                       "2026-1-15",
                                       "2026-01-",
                                       "2026-01-1",
                                       "2026/01/15",
                                       "20260115",
                                       "2026-01-15T",
                                       "2026-01-15T9:30Z",
                                       "2026-01-15T09",
                                       "2026-01-15T09:3",
                                       "2026-01-15T09-30",
                                       "2026-01-15T24:00Z",
                                       "2026-01-15T09:60Z",
                                       "2026-01-15T09:30:61Z",
                                       "2026-01-15T09:30:5Z",
                                       "2026-01-15 09:30Z",
                                       "2026-01-15T09:30:00z",
                                       "2026-01-15T09:30:00ZZ",
                                       "2026-01-15T09:30:00+0100",
                                       "2026-01-15T09:30:00+01",
                                       "2026-01-15T09:30:00+01:0",
                                       "2026-01-15T09:30:00+01:000",
                                       "2026-01-15T09:30:00+a1:00",
                                       "2026-01-15T09:30:00+01:0b",
                                       "2026-01-15X",
                                       "2026-01-15T09:30:00.123x",
                                       "-2026-01-15",
                                       "+2026",
                                       "2O26-01-15",
                                       "2026-0!-15"}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_fhir_datetime(bad));
    }
    CHECK_FALSE(parse_fhir_datetime(std::string_view("2026-01-15\0", 11)));
  }
}
