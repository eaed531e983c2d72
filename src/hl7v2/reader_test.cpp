#include "covgate/hl7v2/reader.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "covgate/fhir/linker.hpp"
#include "covgate/model/fact_index.hpp"

using namespace covgate;
using namespace covgate::hl7v2;

namespace {

const mapping::tables& tables() {
  static const auto t = mapping::tables::parse(mapping::embedded_sources());
  return t;
}

// A site's tables: NORTHLAB's local codes.
const mapping::tables& site_tables() {
  static const auto t = [] {
    auto sources = mapping::embedded_sources();
    sources.hl7v2 = R"({
      "patient_class": {"O": "AMB", "I": "IMP", "E": "EMER"},
      "coding_systems": {"LN": "http://loinc.org", "SCT": "http://snomed.info/sct"},
      "local_codes": [
        {"sender": "NORTHLAB", "system": "L", "code": "GLU", "loinc": "2345-7"},
        {"sender": "NORTHLAB", "system": "L", "code": "EGFR", "loinc": "98979-8"}]})";
    return mapping::tables::parse(sources);
  }();
  return t;
}

std::string join(std::initializer_list<std::string_view> segments, std::string_view end = "\r") {
  std::string out;
  for (const auto s : segments) {
    out.append(s);
    out.append(end);
  }
  return out;
}

// An LRI-style ORU (v2.5.1) with C-peptide, fasting glucose and creatinine, two orders.
const std::string lri = join({
    "MSH|^~\\&|SUNLAB^2.16.840.1.113883.3.9999.1^ISO|SUNLAB^05D9999999^CLIA|COVGATE|ACMEHOSP|"
    "20260312101530-0500||ORU^R01^ORU_R01|SL20260312-000417|P|2.5.1|||AL|NE|||||"
    "LRI_Common_Component^^2.16.840.1.113883.9.16^ISO",
    "PID|1||MRN448812^^^ACMEHOSP^MR~7TK2C94QR35^^^CMS&2.16.840.1.113883.4.927&ISO^MC||"
    "TESTPATIENT^MARGARET^A^^^^L||19510822|F|||12 ELM ST^^SPRINGFIELD^IL^62701^USA^H",
    "PV1|1|O|ENDO^^^ACMEHOSP^^^^^ENDOCRINE CLINIC||||1234567893^WELBY^MARCUS^J^^DR^^^NPI&2.16."
    "840.1.113883.4.6&ISO^L^^^NPI^^^^^^^^MD",
    "ORC|RE|ORD77120^ACMEHOSP|SL-26-071-0042^SUNLAB",
    "OBR|1|ORD77120^ACMEHOSP|SL-26-071-0042^SUNLAB|CPGLU^C-PEPTIDE + FASTING GLUCOSE^L|||"
    "20260312071500-0500||||||||||||||20260312101400-0500|||F",
    "OBX|1|NM|1986-9^C peptide [Mass/volume] in Serum or Plasma^LN^CPEP^C-Peptide^L||0.6|ng/mL^"
    "nanogram per milliliter^UCUM|0.8-3.5|L|||F|||20260312071500-0500|||||20260312095200-0500",
    "OBX|2|NM|1558-6^Fasting glucose [Mass/volume] in Serum or Plasma^LN^GLUF^Glucose, fasting^L"
    "||182|mg/dL^milligram per deciliter^UCUM|70-99|H|||F|||20260312071500-0500",
    "SPM|1|SL-26-071-0042-1&SUNLAB||119364003^Serum specimen^SCT|||||||P^Patient^HL70369||||||"
    "20260312071500-0500|20260312083000-0500",
    "OBX|3|CWE|49541-6^Fasting status - Reported^LN||Y^Yes^HL70136||||||F|||20260312071500-0500",
    "ORC|RE|ORD77121^ACMEHOSP|SL-26-071-0043^SUNLAB",
    "OBR|2|ORD77121^ACMEHOSP|SL-26-071-0043^SUNLAB|2160-0^Creatinine^LN^CREA^Creatinine^L|||"
    "20260312071500-0500||||||||||||||20260312101400-0500|||F",
    "OBX|1|NM|2160-0^Creatinine [Mass/volume] in Serum or Plasma^LN^CREA^Creatinine^L||1.9|mg/dL^"
    "milligram per deciliter^UCUM|0.57-1.00|H|||F|||20260312071500-0500",
    "SPM|1|SL-26-071-0043-1&SUNLAB||119364003^Serum specimen^SCT|||||||||||||20260312071500-0500",
});

// The same creatinine corrected the next day (OBX-11 as given).
std::string correction(char status, std::string_view value = "1.6") {
  return join({
      "MSH|^~\\&|SUNLAB^2.16.840.1.113883.3.9999.1^ISO|SUNLAB^05D9999999^CLIA|COVGATE|ACMEHOSP|"
      "20260313090210-0500||ORU^R01^ORU_R01|SL20260313-000022|P|2.5.1|||AL|NE",
      "PID|1||MRN448812^^^ACMEHOSP^MR~7TK2C94QR35^^^CMS&2.16.840.1.113883.4.927&ISO^MC||"
      "TESTPATIENT^MARGARET^A^^^^L||19510822|F",
      "ORC|RE|ORD77121^ACMEHOSP|SL-26-071-0043^SUNLAB",
      "OBR|1|ORD77121^ACMEHOSP|SL-26-071-0043^SUNLAB|2160-0^Creatinine^LN|||"
      "20260312071500-0500||||||||||||||20260313090000-0500|||C",
      "OBX|1|NM|2160-0^Creatinine [Mass/volume] in Serum or Plasma^LN^CREA^Creatinine^L||" +
          std::string(value) + "|mg/dL^milligram per deciliter^UCUM|0.57-1.00|H|||" + status +
          "|||20260312071500-0500",
      "NTE|1|L|Corrected result: previously reported 1.9 mg/dL on 20260312; calibration drift.",
  });
}

// A messy v2.3 feed: LF separators, local codes, SN and ST values, ranges in NTE, a Z-segment.
std::string messy(char status) {
  const std::string s(1, status);
  return join(
      {"MSH|^~\\&|LABSYS|NORTHLAB|||20260402153012||ORU^R01|NL0000912|P|2.3",
       "PID|1|7TK2C94QR35|448812^^^ACMEHOSP^MR||TESTPATIENT^MARGARET^A||19510822|F",
       "PV1|1|O|||||2222^PATEL^ANITA^^^DR^DO", "ORC|RE|A99812|N26-44120",
       "OBR|1|A99812|N26-44120|DMPNL^DIABETES PANEL^L|||202604020705|||||||202604020840||"
       "2222^PATEL^ANITA^^^DR^DO||||||202604021530|||" +
           s,
       "NTE|1|L|PATIENT FASTING: YES (12 HRS)",
       "OBX|1|SN|CPEP^C-PEPTIDE^L^1986-9^C peptide SerPl-mCnc^LN||<^0.10|ng/ml|||||" + s +
           "|||202604020705",
       "NTE|1|L|Reference range: 0.80 - 3.85 ng/ml (fasting)",
       "OBX|2|NM|GLU^GLUCOSE^L||214|mg/dl|65-99|H|||" + s + "|||202604020705",
       "OBX|3|ST|CREAT^CREATININE^L^2160-0^Creatinine SerPl-mCnc^LN||1.42|mg/dl|0.57 - 1.00|H|||" +
           s + "|||202604020705",
       "OBX|4|NM|EGFR^eGFR (CKD-EPI 2021)^L||37|mL/min/1.73m2|>59|L|||" + s + "|||202604020705",
       "ZLR|1|NORTHLAB^ROUTE7|COURIER"},
      "\n");
}

// An ADT (v2.5.1) with an attending MD and a referring NP, identified by NPI.
std::string adt(std::string_view event, std::string_view end = "", std::string_view control = "1") {
  return join({
      "MSH|^~\\&|ACMEADT|ACMEHOSP|COVGATE|ACMEHOSP|20260312080205-0500||ADT^" + std::string(event) +
          "^ADT_A01|ADT884213-" + std::string(control) + "|P|2.5.1|||AL|NE",
      "EVN|" + std::string(event) + "|20260312080200-0500|||JDOE^DOE^JANE",
      "PID|1||MRN448812^^^ACMEHOSP^MR~7TK2C94QR35^^^CMS&2.16.840.1.113883.4.927&ISO^MC||"
      "TESTPATIENT^MARGARET^A^^^^L||19510822|F|||12 ELM ST^^SPRINGFIELD^IL^62701^USA^H",
      "PV1|1|O|ENDO^EXAM3^^ACMEHOSP^^^^^ENDOCRINE CLINIC|R|||1234567893^WELBY^MARCUS^J^^DR^^^NPI&"
      "2.16.840.1.113883.4.6&ISO^L^^^NPI^^^^^^^^MD|1999999919^NGUYEN^LINDA^^^^^^NPI&2.16.840.1."
      "113883.4.6&ISO^L^^^NPI^^^^^^^^NP||END||||1|||1234567893^WELBY^MARCUS^J^^DR^^^NPI&2.16.840."
      "1.113883.4.6&ISO^L^^^NPI^^^^^^^^MD|OP|V26071-5531^^^ACMEHOSP^VN|MC|||||||||||||||||||"
      "ACMEHOSP|||||20260312080000-0500|" +
          std::string(end),
      "IN1|1|MCRB^MEDICARE PART B|CMS-MAC-J6|MEDICARE",
  });
}

template <class T>
std::vector<const T*> all(const read_result& r) {
  std::vector<const T*> out;
  for (const auto& f : r.facts) {
    if (const auto* x = std::get_if<T>(&f)) out.push_back(x);
  }
  return out;
}

const model::lab_result* lab(const read_result& r, std::string_view loinc) {
  for (const auto* l : all<model::lab_result>(r)) {
    if (l->loinc == loinc) return l;
  }
  return nullptr;
}

bool has_issue(const read_result& r, error code) {
  return std::any_of(r.issues.begin(), r.issues.end(),
                     [&](const issue& i) { return i.code == code; });
}

const issue* find_issue(const read_result& r, error code) {
  for (const auto& i : r.issues) {
    if (i.code == code) return &i;
  }
  return nullptr;
}

model::moment at(const char* fhir) { return *model::parse_fhir_datetime(fhir); }

}  // namespace

TEST_SUITE("hl7v2.reader") {
  TEST_CASE("an LRI ORU^R01 gives the patient and each result as the FHIR reader would") {
    const auto r = read(lri, tables());
    CHECK_FALSE(r.rejected);
    CHECK(r.ack() == ack_code::application_accept);
    CHECK(r.observations == 4);
    CHECK(r.mapped == 3);
    const auto patients = all<model::patient>(r);
    REQUIRE(patients.size() == 1);
    CHECK(patients[0]->key == "7TK2C94QR35");
    CHECK(patients[0]->birth_date == model::date{1951, 8, 22});
    CHECK(patients[0]->sex == 'F');
    CHECK(patients[0]->resource_id.rfind("Patient/v2-", 0) == 0);
    CHECK(std::find(patients[0]->identifiers.begin(), patients[0]->identifiers.end(),
                    "http://hl7.org/fhir/sid/us-mbi|7TK2C94QR35") !=
          patients[0]->identifiers.end());

    const auto* cpep = lab(r, "1986-9");
    REQUIRE(cpep);
    CHECK(cpep->kind == mapping::lab_kind::c_peptide);
    CHECK(cpep->has_value);
    CHECK(cpep->value == doctest::Approx(0.6));
    CHECK(cpep->unit == "ng/mL");
    CHECK(cpep->unit_known);
    CHECK(*cpep->low == doctest::Approx(0.8));
    CHECK(*cpep->high == doctest::Approx(3.5));
    CHECK(cpep->interpretation == std::vector<std::string>{"L"});
    CHECK(cpep->status == "final");
    // SPM-17 dates the order; the ask-at-order-entry answer 49541-6 says it was fasting.
    CHECK(cpep->effective == at("2026-03-12T07:15:00-05:00"));
    CHECK(cpep->fasting == model::fasting_state::fasting);
    CHECK(cpep->patient_key == "7TK2C94QR35");
    CHECK(cpep->patient == patients[0]->resource_id);
    CHECK(cpep->last_updated == "2026-03-12T15:15:30Z");
    CHECK(cpep->resource_id.rfind("Observation/v2-", 0) == 0);

    const auto* glucose = lab(r, "1558-6");
    REQUIRE(glucose);
    CHECK(glucose->kind == mapping::lab_kind::fasting_glucose);
    CHECK(glucose->value == doctest::Approx(182));
    CHECK(glucose->fasting == model::fasting_state::fasting);
    CHECK(glucose->effective == cpep->effective);

    const auto* creatinine = lab(r, "2160-0");
    REQUIRE(creatinine);
    CHECK(creatinine->value == doctest::Approx(1.9));
    CHECK(*creatinine->low == doctest::Approx(0.57));
    CHECK(creatinine->fasting == model::fasting_state::unknown);  // a different order
    CHECK(creatinine->resource_id != cpep->resource_id);
    CHECK(all<model::lab_result>(r).size() == 3);  // 49541-6 is read, not kept
  }

  TEST_CASE("a correction replaces the result, an older version never does, W retracts it") {
    const auto first = read(lri, tables());
    const auto corrected = read(correction('C'), tables());
    const auto* before = lab(first, "2160-0");
    const auto* after = lab(corrected, "2160-0");
    REQUIRE(before);
    REQUIRE(after);
    CHECK(after->resource_id == before->resource_id);
    CHECK(after->status == "corrected");
    CHECK(after->value == doctest::Approx(1.6));
    CHECK(model::older_version(before->last_updated, after->last_updated));

    model::fact_index by_resource;
    CHECK(by_resource.apply({*before}) == model::fact_index::change::added);
    CHECK(by_resource.apply({*after}) == model::fact_index::change::replaced);
    CHECK(by_resource.apply({*before}) == model::fact_index::change::ignored);
    const auto kept = by_resource.find(after->resource_id);
    REQUIRE(kept);
    CHECK(std::get<model::lab_result>(kept->front()).value == doctest::Approx(1.6));

    for (const char status : {'W', 'D'}) {
      CAPTURE(status);
      const auto wrong = read(correction(status, ""), tables());
      const auto retractions = all<model::retraction>(wrong);
      REQUIRE(retractions.size() == 1);
      CHECK(retractions[0]->resource_id == before->resource_id);
      CHECK(retractions[0]->patient_key == "7TK2C94QR35");
      model::fact_index copy;
      CHECK(copy.apply({*after}) == model::fact_index::change::added);
      CHECK(copy.apply({*retractions[0]}) == model::fact_index::change::retracted);
      CHECK_FALSE(copy.find(after->resource_id));
    }
  }

  TEST_CASE("F, C and U count; P, R, I and X do not, and say so") {
    for (const char status : {'F', 'C', 'U'}) {
      CAPTURE(status);
      CHECK(lab(read(correction(status), tables()), "2160-0"));
    }
    CHECK(lab(read(correction('U'), tables()), "2160-0")->status == "final");
    for (const char status : {'P', 'R', 'I', 'X', 'S'}) {
      CAPTURE(status);
      const auto r = read(correction(status), tables());
      CHECK_FALSE(lab(r, "2160-0"));
      CHECK(all<model::retraction>(r).empty());
      const auto* note = find_issue(r, error::status_not_counted);
      REQUIRE(note);
      CHECK(note->level == severity::information);
      CHECK(note->field == 11);
      CHECK(r.ack() == ack_code::application_accept);
    }
    const auto unknown = read(correction('Q'), tables());
    CHECK(has_issue(unknown, error::table_value_not_found));
    CHECK(unknown.ack() == ack_code::application_error);
    const auto empty = read(correction(' '), tables());
    CHECK(has_issue(empty, error::required_field_missing));
  }

  TEST_CASE("a messy v2.3 LF feed: preliminary results do not count, nothing is invented") {
    const auto r = read(messy('P'), site_tables());
    CHECK_FALSE(r.rejected);
    CHECK(all<model::lab_result>(r).empty());
    CHECK(r.observations == 4);
    CHECK(std::count_if(r.issues.begin(), r.issues.end(),
                        [](const issue& i) { return i.code == error::status_not_counted; }) == 4);
    // The MBI sits in PID-2 with no type code: it makes no key (never guessed).
    CHECK(has_issue(r, error::no_patient_key));
    CHECK(all<model::patient>(r).at(0)->key.empty());
  }

  TEST_CASE("SN comparators, numbers in ST, local codes and unit spellings read like FHIR") {
    const auto r = read(messy('F'), site_tables());
    CHECK(r.ack() == ack_code::application_accept);
    const auto* cpep = lab(r, "1986-9");  // LOINC only in the alternate triplet
    REQUIRE(cpep);
    CHECK(cpep->value == doctest::Approx(0.10));  // "<^0.10": the bound is the value
    CHECK(cpep->unit == "ng/mL");
    CHECK(cpep->original_unit == "ng/ml");
    CHECK_FALSE(cpep->low);  // the range is only in an NTE
    CHECK(cpep->effective == at("2026-04-02T07:05"));
    const auto* glucose = lab(r, "2345-7");  // NORTHLAB's local GLU
    REQUIRE(glucose);
    CHECK(glucose->value == doctest::Approx(214));
    CHECK(*glucose->low == doctest::Approx(65));
    CHECK(*glucose->high == doctest::Approx(99));
    const auto* creatinine = lab(r, "2160-0");  // ST holding a number
    REQUIRE(creatinine);
    CHECK(creatinine->value == doctest::Approx(1.42));
    CHECK(*creatinine->high == doctest::Approx(1.00));
    const auto* egfr = lab(r, "98979-8");
    REQUIRE(egfr);
    CHECK(egfr->value == doctest::Approx(37));
    CHECK(*egfr->low == doctest::Approx(59));
    CHECK_FALSE(egfr->high);
    // Without the site's table, the local codes are counted as not read, never guessed.
    const auto plain = read(messy('F'), tables());
    CHECK_FALSE(lab(plain, "2345-7"));
    CHECK(plain.not_read == 2);
  }

  TEST_CASE("reference ranges in their common forms give LLN and ULN, converted like the value") {
    auto with_range = [](std::string_view range, std::string_view unit = "ng/mL") {
      return read(join({"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|2.5.1", "PID|1||M^^^H^MR",
                        "OBR|1||F1||||20260301",
                        "OBX|1|NM|1986-9^^LN||0.2|" + std::string(unit) + "|" + std::string(range) +
                            "||||F"}),
                  tables());
    };
    struct expect {
      const char* range;
      std::optional<double> low, high;
    };
    for (const auto& e : {expect{"0.8-3.5", 0.8, 3.5}, expect{"0.8 - 3.5", 0.8, 3.5},
                          expect{"70_105", 70, 105}, expect{"4.3 to 6.2", 4.3, 6.2},
                          expect{">59", 59, std::nullopt}, expect{">= 60", 60, std::nullopt},
                          expect{"<5", std::nullopt, 5}, expect{"<=0.02", std::nullopt, 0.02},
                          expect{"0.8-3.5 ng/mL", 0.8, 3.5}, expect{"-2.0-2.0", -2.0, 2.0},
                          expect{"0.8\xE2\x80\x93"
                                 "3.5",
                                 0.8, 3.5}}) {
      CAPTURE(e.range);
      const auto r = with_range(e.range);
      const auto* l = lab(r, "1986-9");
      REQUIRE(l);
      CHECK(l->low.has_value() == e.low.has_value());
      CHECK(l->high.has_value() == e.high.has_value());
      if (e.low) CHECK(*l->low == doctest::Approx(*e.low));
      if (e.high) CHECK(*l->high == doctest::Approx(*e.high));
      CHECK_FALSE(has_issue(r, error::reference_range_unread));
    }
    const auto converted = with_range("0.26-1.16", "nmol/L");
    CHECK(*lab(converted, "1986-9")->low == doctest::Approx(0.26 * 3.02));
    CHECK(lab(converted, "1986-9")->value == doctest::Approx(0.2 * 3.02));
    const auto text = with_range("Negative");
    CHECK_FALSE(lab(text, "1986-9")->low);
    CHECK_FALSE(has_issue(text, error::reference_range_unread));
    const auto odd = with_range("0.8 or more");
    CHECK(has_issue(odd, error::reference_range_unread));
    CHECK(odd.ack() == ack_code::application_accept);  // a warning: the value is kept
  }

  TEST_CASE("an unknown unit is kept and flagged, never guessed") {
    const auto r =
        read(join({"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|2.5.1", "PID|1||M^^^H^MR",
                   "OBR|1||F1||||20260301", "OBX|1|NM|1986-9^^LN||0.5|mg/dL|0.8-3.5||||F"}),
             tables());
    const auto* l = lab(r, "1986-9");
    REQUIRE(l);
    CHECK_FALSE(l->unit_known);
    CHECK(l->unit == "mg/dL");
    CHECK_FALSE(l->low);
    const auto* w = find_issue(r, error::unit_unknown);
    REQUIRE(w);
    CHECK(w->level == severity::warning);
    CHECK(w->field == 6);
  }

  TEST_CASE("a positive autoantibody reads from OBX-8 flags or a coded value") {
    const auto r =
        read(join({"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|2.5.1", "PID|1||M^^^H^MR",
                   "OBR|1||F1||||20260301", "OBX|1|NM|30347-9^GAD65 Ab^LN||12.4|U/mL|<5|H~A|||F",
                   "OBX|2|CWE|81155-4^IA-2 Ab^LN||10828004^Positive^SCT||Negative|POS|||F",
                   "OBX|3|CE|60463-7^Insulin Ab^LN||NEG^Negative^L||||||F"}),
             tables());
    const auto* gad = lab(r, "30347-9");
    REQUIRE(gad);
    CHECK(gad->interpretation == std::vector<std::string>{"H", "A"});
    CHECK(*gad->high == doctest::Approx(5));
    CHECK(gad->unit == "U/mL");  // antibody units are kept as sent
    const auto* ia2 = lab(r, "81155-4");
    REQUIRE(ia2);
    CHECK_FALSE(ia2->has_value);
    CHECK(ia2->interpretation == std::vector<std::string>{"POS", "POS"});
    CHECK(lab(r, "60463-7")->interpretation == std::vector<std::string>{"NEG"});
  }

  TEST_CASE("the effective time is SPM-17, else OBR-7, else OBX-14") {
    auto msg = [](std::string_view spm, std::string_view obr7, std::string_view obx14) {
      std::string text = join({"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|2.5.1", "PID|1||M^^^H^MR",
                               "OBR|1||F1||||" + std::string(obr7),
                               "OBX|1|NM|2345-7^^LN||90|mg/dL|||||F|||" + std::string(obx14)});
      if (!spm.empty()) text += "SPM|1" + std::string(16, '|') + std::string(spm) + "\r";
      return read(text, tables());
    };
    CHECK(lab(msg("202603010700", "202603010800", "202603010900"), "2345-7")->effective ==
          at("2026-03-01T07:00"));
    CHECK(lab(msg("", "202603010800", "202603010900"), "2345-7")->effective ==
          at("2026-03-01T08:00"));
    CHECK(lab(msg("", "", "202603010900"), "2345-7")->effective == at("2026-03-01T09:00"));
    const auto none = msg("", "", "");
    CHECK_FALSE(lab(none, "2345-7"));
    CHECK(has_issue(none, error::no_effective_time));
    const auto bad = msg("", "2026030", "");
    CHECK_FALSE(lab(bad, "2345-7"));
    const auto* e = find_issue(bad, error::data_type_error);
    REQUIRE(e);
    CHECK(e->segment == "OBR");
    CHECK(e->field == 7);
    CHECK(bad.ack() == ack_code::application_error);
  }

  TEST_CASE("fasting comes from the LOINC, the 49541-6 answer, or OBR-13 (table 0916)") {
    auto msg = [](std::string_view obr13, std::string_view aoe) {
      std::string text =
          join({"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|2.5.1", "PID|1||M^^^H^MR",
                "OBR|1||F1||||20260301||||||" + std::string(obr13),
                "OBX|1|NM|1986-9^^LN||0.5|ng/mL|||||F", "OBX|2|NM|1558-6^^LN||90|mg/dL|||||F"});
      if (!aoe.empty()) {
        text += "OBX|3|CWE|49541-6^Fasting status^LN||" + std::string(aoe) + "||||||F\r";
      }
      return read(text, tables());
    };
    CHECK(lab(msg("", ""), "1986-9")->fasting == model::fasting_state::unknown);
    CHECK(lab(msg("", ""), "1558-6")->fasting == model::fasting_state::fasting);
    CHECK(lab(msg("", "Y^Yes^HL70136"), "1986-9")->fasting == model::fasting_state::fasting);
    CHECK(lab(msg("", "N^No^HL70136"), "1986-9")->fasting == model::fasting_state::not_fasting);
    CHECK(lab(msg("F^Fasting^HL70916", ""), "1986-9")->fasting == model::fasting_state::fasting);
    CHECK(lab(msg("NF", ""), "1986-9")->fasting == model::fasting_state::not_fasting);
    CHECK(lab(msg("NF", "Y"), "1986-9")->fasting == model::fasting_state::fasting);
  }

  TEST_CASE("evidence codes in 99COVGATE become the evidence facts FHIR gives") {
    const auto r =
        read(join({"MSH|^~\\&|EHR|CLINIC|||20260110||ORU^R01|E1|P|2.5.1",
                   "PID|1||M^^^H^MR~1AA1AA1AA01^^^CMS^MC", "OBR|1||EV-1||||20260110",
                   "OBX|1|CWE|diabetes-education-completed^^99COVGATE||Y^Yes^HL70136||||||F",
                   "OBX|2|NM|mdi-injections-per-day^^99COVGATE||4|/d|||||F",
                   "OBX|3|ST|prior-authorization^^99COVGATE||PA-77\\F\\1||||||F",
                   "OBX|4|CWE|pump-before-medicare^^99COVGATE||N^No^HL70136||||||F",
                   "OBX|5|NM|302866003^Hypoglycemia^SCT||1||||||F"}),
             tables());
    CHECK(r.ack() == ack_code::application_accept);
    const auto ev = all<model::evidence>(r);
    REQUIRE(ev.size() == 5);
    CHECK(ev[0]->code == "diabetes-education-completed");
    CHECK(ev[0]->value_type == "boolean");
    CHECK(ev[0]->flag);
    CHECK(ev[1]->code == "mdi-injections-per-day");
    CHECK(ev[1]->number == doctest::Approx(4));
    CHECK(ev[1]->flag);
    CHECK(ev[2]->text == "PA-77|1");
    CHECK_FALSE(ev[3]->flag);
    CHECK(ev[0]->patient_key == "1AA1AA1AA01");
    CHECK(ev[0]->effective == at("2026-01-10"));
    // A site code (evidence.json "site") through its coding system: SNOMED CT as SCT. A number
    // for a boolean code is taken as FHIR takes a valueQuantity for one (flag set).
    CHECK(ev[4]->code == "recurring-hypoglycemia");
    CHECK(ev[4]->flag);
    CHECK(r.mapped == 5);
  }

  TEST_CASE("evidence of the wrong type is refused with a data type error") {
    const auto r = read(
        join({"MSH|^~\\&|EHR|CLINIC|||20260110||ORU^R01|E1|P|2.5.1", "PID|1||1AA1AA1AA01^^^CMS^MC",
              "OBR|1||EV-1||||20260110", "OBX|1|ST|smbg-per-day^^99COVGATE||four||||||F",
              "OBX|2|CWE|tumor-unresectable^^99COVGATE||||||||F"}),
        tables());
    CHECK(all<model::evidence>(r).empty());
    CHECK(has_issue(r, error::data_type_error));
    CHECK(has_issue(r, error::required_field_missing));
    CHECK(r.ack() == ack_code::application_error);
  }

  TEST_CASE("a site's own evidence code maps through its coding system") {
    const auto r = read(
        join({"MSH|^~\\&|EHR|CLINIC|||20260110||ORU^R01|E1|P|2.5.1", "PID|1||1AA1AA1AA01^^^CMS^MC",
              "OBR|1||EV-1||||20260110", "OBX|1|CWE|302866003^Hypoglycemia^SCT||Y||||||F"}),
        tables());
    const auto ev = all<model::evidence>(r);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0]->code == "recurring-hypoglycemia");
    CHECK(ev[0]->flag);
  }

  TEST_CASE("ADT A04 gives an in-progress visit with its providers' types; A03 finishes it") {
    const auto r = read(adt("A04"), tables());
    CHECK(r.ack() == ack_code::application_accept);
    const auto visits = all<model::encounter>(r);
    REQUIRE(visits.size() == 1);
    const auto& e = *visits[0];
    CHECK(e.status == "in-progress");
    CHECK(e.class_code == "AMB");
    CHECK(e.start == at("2026-03-12T08:00:00-05:00"));
    CHECK_FALSE(e.end.valid());
    CHECK(e.patient_key == "7TK2C94QR35");
    CHECK(e.last_updated == "2026-03-12T13:02:05Z");
    CHECK(e.locations.size() == 1);
    REQUIRE(e.participants.size() == 3);
    CHECK(e.participants[0].reference == "Practitioner/npi-1234567893");
    CHECK(e.participants[0].type == mapping::provider_type::physician);
    CHECK(e.participants[0].roles == std::vector<std::string>{"ATND"});
    CHECK(e.participants[1].type == mapping::provider_type::nurse_practitioner);
    CHECK(e.participants[1].roles == std::vector<std::string>{"REF"});
    CHECK(e.participants[2].roles == std::vector<std::string>{"ADM"});
    const auto practitioners = all<model::practitioner>(r);
    REQUIRE(practitioners.size() == 2);  // Dr Welby once, though named twice
    CHECK(practitioners[0]->npi == "1234567893");
    CHECK(practitioners[0]->qualifications == std::vector<std::string>{"MD"});
    // The same PID gives the same Patient as the ORU did.
    CHECK(all<model::patient>(r).at(0)->resource_id ==
          all<model::patient>(read(lri, tables())).at(0)->resource_id);

    const auto done = read(adt("A03", "", "2"), tables());
    REQUIRE(all<model::encounter>(done).size() == 1);
    CHECK(all<model::encounter>(done)[0]->status == "finished");
    CHECK(all<model::encounter>(done)[0]->resource_id == e.resource_id);
    const auto updated = read(adt("A08", "20260312093000-0500", "3"), tables());
    const auto* u = all<model::encounter>(updated).at(0);
    CHECK(u->status == "finished");  // PV1-45 ends it
    CHECK(u->end == at("2026-03-12T09:30:00-05:00"));
  }

  TEST_CASE("A11 and A13 retract the visit; A40 is refused until merges are applied") {
    const auto visit = read(adt("A04"), tables());
    const auto& id = all<model::encounter>(visit).at(0)->resource_id;
    for (const char* event : {"A11", "A13"}) {
      CAPTURE(event);
      const auto r = read(adt(event), tables());
      const auto retractions = all<model::retraction>(r);
      REQUIRE(retractions.size() == 1);
      CHECK(retractions[0]->resource_id == id);
      CHECK(all<model::encounter>(r).empty());
    }
    const auto merge = read(adt("A40"), tables());
    CHECK(merge.rejected);
    CHECK(merge.ack() == ack_code::application_reject);
    CHECK(find_issue(merge, error::unsupported_event)->field == 9);
    const auto other = read(adt("A02"), tables());
    CHECK(other.ack() == ack_code::application_accept);
    CHECK(all<model::encounter>(other).empty());
    CHECK(all<model::patient>(other).size() == 1);  // the patient is still read
    CHECK(has_issue(other, error::event_not_read));
  }

  TEST_CASE("patient classes map through hl7v2.json; credentials from XCN-21 or XCN-7") {
    auto visit = [](std::string_view pv1) {
      return read(join({"MSH|^~\\&|A|F|||20260312||ADT^A03|9|P|2.3", "PID|1||M1^^^H^MR",
                        std::string("PV1|1|") + std::string(pv1)}),
                  tables());
    };
    const auto inpatient = visit("I|W^1^2||||2222^PATEL^ANITA^^^DR^DO|||||||||||||V1");
    const auto* e = all<model::encounter>(inpatient).at(0);
    CHECK(e->class_code == "IMP");
    CHECK(e->participants.at(0).type == mapping::provider_type::physician);  // XCN-7 DO
    CHECK(has_issue(inpatient, error::visit_date_missing));
    const auto emergency = visit("E");
    CHECK(all<model::encounter>(emergency).at(0)->class_code == "EMER");
    const auto recurring = visit("R");
    CHECK(all<model::encounter>(recurring).at(0)->class_code == "R");  // kept, not a visit class
    CHECK(has_issue(recurring, error::segment_not_read));
    const auto none = visit("");
    CHECK(all<model::encounter>(none).empty());
    CHECK(find_issue(none, error::required_field_missing)->field == 2);
  }

  TEST_CASE("results without a PID, or OBX before any OBR, are not read and are named") {
    const auto no_pid = read(join({"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|2.5.1",
                                   "OBR|1||F1||||20260301", "OBX|1|NM|2345-7^^LN||90|mg/dL|||||F"}),
                             tables());
    CHECK(all<model::lab_result>(no_pid).empty());
    CHECK(has_issue(no_pid, error::patient_missing));
    CHECK(no_pid.ack() == ack_code::application_error);
    const auto orphan = read(join({"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|2.5.1", "PID|1||M^^^H^MR",
                                   "OBX|1|NM|2345-7^^LN||90|mg/dL|||||F"}),
                             tables());
    const auto* e = find_issue(orphan, error::segment_sequence);
    REQUIRE(e);
    CHECK(e->segment == "OBX");
    CHECK(e->sequence == 1);
    CHECK(e->line == 3);
  }

  TEST_CASE("a value that is not its type is refused with its place") {
    const auto r =
        read(join({"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|2.5.1", "PID|1||1AA1AA1AA01^^^CMS^MC",
                   "OBR|1||F1||||20260301", "OBX|1|NM|2345-7^^LN||9O|mg/dL|||||F",
                   "OBX|2|NM|1558-6^^LN||90|mg/dL|||||F"}),
             tables());
    const auto* e = find_issue(r, error::data_type_error);
    REQUIRE(e);
    CHECK(e->segment == "OBX");
    CHECK(e->sequence == 1);
    CHECK(e->field == 5);
    CHECK(to_string(*e) == "line 4: OBX[1]-5: OBX-5 is not a number (OBX-2 NM)");
    CHECK(lab(r, "1558-6"));  // the rest of the message is read
    CHECK(r.ack() == ack_code::application_error);
    const auto outcome = r.outcome();
    REQUIRE(outcome.errors.size() == 1);
    CHECK(outcome.errors[0].segment == "OBX");
    CHECK(outcome.errors[0].field == 5);
  }

  TEST_CASE("messages covgate does not read are refused with the table 0357 code") {
    struct expect {
      std::string message;
      error code;
    };
    const std::string pid = "PID|1||M^^^H^MR\r";
    for (const auto& e : {
             expect{"PID|1||M\r", error::msh_missing},
             expect{"MSHA^~\\&A\r", error::invalid_delimiters},
             expect{"MSH|^~^&|L|F\r" + pid, error::invalid_delimiters},
             expect{"MSH|^~\\&|L|F|||20260301|||1|P|2.5.1\r" + pid, error::message_type_missing},
             expect{"MSH|^~\\&|L|F|||20260301||SIU^S12|1|P|2.5.1\r" + pid,
                    error::unsupported_message_type},
             expect{"MSH|^~\\&|L|F|||20260301||ORU^R30|1|P|2.5.1\r" + pid,
                    error::unsupported_event},
             expect{"MSH|^~\\&|L|F|||20260301||ORU^R01||P|2.5.1\r" + pid,
                    error::control_id_missing},
             expect{"MSH|^~\\&|L|F|||20260301||ORU^R01|1|X|2.5.1\r" + pid,
                    error::unsupported_processing_id},
             expect{"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|3.0\r" + pid,
                    error::unsupported_version},
         }) {
      CAPTURE(e.message);
      const auto r = read(e.message, tables());
      CHECK(r.rejected);
      CHECK(r.ack() == ack_code::application_reject);
      CHECK(has_issue(r, e.code));
      CHECK(r.facts.empty());
    }
    read_options production;
    production.processing_ids = {"P"};
    CHECK(
        read("MSH|^~\\&|L|F|||20260301||ORU^R01|1|T|2.5.1\r" + pid, tables(), production).rejected);
    CHECK_FALSE(read("MSH|^~\\&|L|F|||20260301||ORU^R01|1|T|2.5.1\r" + pid, tables()).rejected);
  }

  TEST_CASE("an empty MSH-12 is read as 2.5.1 with a warning") {
    const auto r = read("MSH|^~\\&|L|F|||20260301||ORU^R01|1|P\rPID|1||M^^^H^MR\r", tables());
    CHECK_FALSE(r.rejected);
    CHECK(has_issue(r, error::version_missing));
    CHECK(r.ack() == ack_code::application_accept);
  }

  TEST_CASE("a five-character MSH-2, other delimiters and escapes in codes read the same") {
    std::string odd = lri;
    // Same message with # as field separator and * as component separator.
    for (auto& c : odd) {
      if (c == '|')
        c = '#';
      else if (c == '^')
        c = '*';
    }
    const auto a = read(lri, tables());
    const auto b = read(odd, tables());
    REQUIRE(a.facts.size() == b.facts.size());
    CHECK(a.facts == b.facts);  // identities are built from decoded components
    std::string truncated = lri;
    truncated.replace(truncated.find("^~\\&"), 4, "^~\\&#");
    CHECK(read(truncated, tables()).facts == a.facts);
    const auto escaped =
        read(join({"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|2.5.1", "PID|1||M^^^H^MR",
                   "OBR|1||F1||||20260301", "OBX|1|NM|\\X31\\986-9^^LN||0.5|ng\\X2F\\mL|||||F"}),
             tables());
    const auto* l = lab(escaped, "1986-9");
    REQUIRE(l);
    CHECK(l->unit == "ng/mL");
  }

  TEST_CASE("ISO 8859-1 messages are read as UTF-8; undeclared 8-bit text falls back to it") {
    const std::string latin =
        "MSH|^~\\&|L|F|||20260110||ORU^R01|1|P|2.5.1||||||8859/1\r"
        "PID|1||M^^^H^MR~1AA1AA1AA01^^^CMS^MC\rOBR|1||F1||||20260110\r"
        "OBX|1|ST|prior-authorization^^99COVGATE||Gen\xE8ve-1||||||F\r";
    const auto r = read(latin, tables());
    REQUIRE(all<model::evidence>(r).size() == 1);
    CHECK(all<model::evidence>(r)[0]->text == "Gen\xC3\xA8ve-1");
    CHECK_FALSE(has_issue(r, error::invalid_character_encoding));
    std::string undeclared = latin;
    undeclared.replace(undeclared.find("8859/1"), 6, "");
    const auto u = read(undeclared, tables());
    CHECK(all<model::evidence>(u).at(0)->text == "Gen\xC3\xA8ve-1");
    CHECK(has_issue(u, error::invalid_character_encoding));
    std::string unknown = latin;
    unknown.replace(unknown.find("8859/1"), 6, "ISO IR87");
    CHECK(has_issue(read(unknown, tables()), error::unknown_character_set));
  }

  TEST_CASE("the message size limit holds at the limit and refuses past it") {
    read_options o;
    o.limits.max_message_bytes = lri.size() - 1;  // the final CR is trimmed before the check
    CHECK_FALSE(read(lri, tables(), o).rejected);
    o.limits.max_message_bytes = lri.size() - 2;
    const auto r = read(lri, tables(), o);
    CHECK(r.rejected);
    CHECK(has_issue(r, error::message_too_large));
    REQUIRE(r.header);  // the ACK can still echo MSH-10
    CHECK(r.header->control_id == "SL20260312-000417");
  }

  TEST_CASE("the segment limit holds at the limit and refuses past it") {
    read_options o;
    o.limits.max_segments = 13;
    CHECK_FALSE(read(lri, tables(), o).rejected);
    o.limits.max_segments = 12;
    CHECK(has_issue(read(lri, tables(), o), error::too_many_segments));
  }

  TEST_CASE("the field length limit holds at the limit and refuses past it") {
    const std::string unit(40, 'u');
    const auto msg = join({"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|2.5.1", "PID|1||M^^^H^MR",
                           "OBR|1||F1||||20260301", "OBX|1|NM|2345-7^^LN||90|" + unit + "|||||F"});
    read_options o;
    o.limits.max_field_bytes = 40;
    CHECK(lab(read(msg, tables(), o), "2345-7"));
    o.limits.max_field_bytes = 39;
    const auto r = read(msg, tables(), o);
    CHECK_FALSE(lab(r, "2345-7"));
    const auto* e = find_issue(r, error::field_too_long);
    REQUIRE(e);
    CHECK(e->field == 6);
    CHECK(r.ack() == ack_code::application_error);
  }

  TEST_CASE("the repetition limit holds at the limit and stops reading past it") {
    std::string flags = "A";
    for (int i = 1; i < 5; ++i) flags += "~A";
    const auto msg =
        join({"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|2.5.1", "PID|1||M^^^H^MR",
              "OBR|1||F1||||20260301", "OBX|1|NM|30347-9^^LN||3|U/mL||" + flags + "|||F"});
    read_options o;
    o.limits.max_repetitions = 5;
    const auto at_limit = read(msg, tables(), o);
    CHECK(lab(at_limit, "30347-9")->interpretation.size() == 5);
    CHECK_FALSE(has_issue(at_limit, error::too_many_repetitions));
    o.limits.max_repetitions = 4;
    const auto past = read(msg, tables(), o);
    CHECK(lab(past, "30347-9")->interpretation.size() == 4);
    CHECK(find_issue(past, error::too_many_repetitions)->level == severity::warning);
  }

  TEST_CASE("diagnostics name places and codes, never a patient value") {
    std::vector<read_result> results{read(lri, tables()), read(messy('P'), tables()),
                                     read(messy('F'), site_tables()), read(adt("A04"), tables())};
    results.push_back(
        read(join({"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|2.5.1",
                   "PID|1||SECRETMRN^^^H^MR||DOE^SECRET||19400101", "OBR|1||F1||||2026030",
                   "OBR|2||F2||||20260301", "OBX|1|NM|2345-7^^LN||SECRETVALUE|mg/dL|||||F",
                   "OBX|2|ST|prior-authorization^^99COVGATE||||||||F"}),
             tables()));
    std::size_t count = 0;
    for (const auto& r : results) {
      for (const auto& i : r.issues) {
        ++count;
        const auto text = to_string(i);
        CAPTURE(text);
        for (const char* secret : {"7TK2C94QR35", "TESTPATIENT", "MARGARET", "MRN448812", "448812",
                                   "19510822", "0.6", "182", "214", "SECRET", "ELM"}) {
          CHECK(text.find(secret) == std::string::npos);
        }
      }
    }
    CHECK(count >= 7);
  }

  TEST_CASE("facts link through the FHIR linker: a key-less ORU waits for the ADT that has one") {
    std::vector<model::fact> linked;
    fhir::linker l([&](model::fact&& f) { linked.push_back(std::move(f)); });
    auto no_key = lri;
    no_key.replace(no_key.find("~7TK2C94QR35^^^CMS&2.16.840.1.113883.4.927&ISO^MC"),
                   std::string("~7TK2C94QR35^^^CMS&2.16.840.1.113883.4.927&ISO^MC").size(), "");
    for (auto& f : read(no_key, tables()).facts) l.add(std::move(f));
    CHECK(l.waiting() == 3);
    for (auto& f : read(adt("A04"), tables()).facts) l.add(std::move(f));
    CHECK(l.waiting() == 0);
    const auto labs = std::count_if(linked.begin(), linked.end(), [](const model::fact& f) {
      const auto* x = std::get_if<model::lab_result>(&f);
      return x && x->patient_key == "7TK2C94QR35";
    });
    CHECK(labs == 3);
  }

  TEST_CASE("the dedupe key is the sender and MSH-10, whatever the delimiters") {
    const auto a = read(lri, tables());
    CHECK(a.dedupe_key() ==
          "SUNLAB^2.16.840.1.113883.3.9999.1^ISO/SUNLAB^05D9999999^CLIA/SL20260312-000417");
    std::string odd = lri;
    for (auto& c : odd) {
      if (c == '|')
        c = '#';
      else if (c == '^')
        c = '*';
    }
    CHECK(read(odd, tables()).dedupe_key() == a.dedupe_key());
    CHECK(read(correction('F'), tables()).dedupe_key() != a.dedupe_key());
  }

  TEST_CASE("refuse() answers a message the host will not read, echoing its MSH") {
    const auto r = refuse(lri.substr(0, 200), error::message_too_large);
    CHECK(r.rejected);
    REQUIRE(r.header);
    CHECK(r.header->control_id == "SL20260312-000417");
    const auto acks = write_acks(r, {});
    REQUIRE(acks.size() == 1);  // MSH-15 AL: the commit ACK; nothing was committed
    CHECK(acks[0].find("MSA|CR|SL20260312-000417") != std::string::npos);
    CHECK(acks[0].find("|104^Value too long^HL70357|E") != std::string::npos);
  }

  TEST_CASE("messages wrapped in MLLP framing or a BOM read the same") {
    const auto plain = read(lri, tables());
    CHECK(read("\xEF\xBB\xBF\x0B" + lri + "\x1C\r", tables()).facts == plain.facts);
    std::string crlf;
    for (const char c : lri) {
      crlf += c;
      if (c == '\r') crlf += '\n';
    }
    CHECK(read(crlf, tables()).facts == plain.facts);
    std::string lf = lri;
    std::replace(lf.begin(), lf.end(), '\r', '\n');
    CHECK(read(lf, tables()).facts == plain.facts);
  }

  TEST_CASE("regression: an explicit null \"\" reads as no value, not as a malformed one") {
    // python-hl7's sample_msh.hl7: PV1-45 is "" in an ADT^A01.
    const auto r = read(join({"MSH|^~\\&|A|F|||20260312||ADT^A01|9|P|2.3", "PID|1||M1^^^H^MR",
                              "PV1|1|I|W||||||||||||||||V1|||||||||||||||||||||||||"
                              "20260312080000|\"\""}),
                        tables());
    CHECK(r.ack() == ack_code::application_accept);
    const auto* e = all<model::encounter>(r).at(0);
    CHECK_FALSE(e->end.valid());
    CHECK(e->status == "in-progress");
  }

  TEST_CASE("regression: an OBX before any OBR that no table maps is counted, not an error") {
    // fhir-converter's ORU-R01-01.hl7 has patient-level OBX (RP, ED) before its OBR.
    const auto r = read(join({"MSH|^~\\&|L|F|||20260301||ORU^R01|1|P|2.5.1", "PID|1||M^^^H^MR",
                              "OBX||RP|8867-4^heartrate^LN||https://x^^SD^PICT",
                              "OBR|1||F1||||20260301", "OBX|1|NM|2345-7^^LN||90|mg/dL|||||F"}),
                        tables());
    CHECK(r.ack() == ack_code::application_accept);
    CHECK(r.not_read == 1);
    CHECK(lab(r, "2345-7"));
  }
}
