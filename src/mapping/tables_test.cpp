#include "covgate/mapping/tables.hpp"

#include <doctest/doctest.h>

using namespace covgate::mapping;

namespace {

const tables& shipped() {
  static const tables t = tables::parse(embedded_sources());
  return t;
}

double canonical(lab_kind kind, const char* unit, double value) {
  const auto v = shipped().to_canonical(kind, unit, value);
  REQUIRE(v.has_value());
  return v->value;
}

std::string error_of(table_sources sources) {
  try {
    (void)tables::parse(sources);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_SUITE("mapping.tables") {
  TEST_CASE("the shipped tables parse and validate") { CHECK_NOTHROW(shipped()); }

  TEST_CASE("LOINC codes map to lab kinds, fasting variants marked") {
    CHECK(shipped().loinc("1986-9")->kind == lab_kind::c_peptide);
    CHECK_FALSE(shipped().loinc("1986-9")->fasting);
    CHECK(shipped().loinc("13037-7")->fasting);
    CHECK(shipped().loinc("42180-0")->kind == lab_kind::c_peptide_fasting);
    CHECK(shipped().loinc("1558-6")->kind == lab_kind::fasting_glucose);
    CHECK(shipped().loinc("2164-2")->kind == lab_kind::creatinine_clearance);
    CHECK(shipped().loinc("98979-8")->kind == lab_kind::egfr);
    CHECK(shipped().loinc("76651-9")->kind == lab_kind::znt8_antibody);
    CHECK(is_autoantibody(lab_kind::islet_cell_antibody));
    CHECK_FALSE(shipped().loinc("1987-7").has_value());
  }

  TEST_CASE("converts every unit docs/policy.md section 9 names to its canonical unit") {
    CHECK(canonical(lab_kind::c_peptide, "nmol/L", 0.2) == doctest::Approx(0.604));
    CHECK(canonical(lab_kind::c_peptide, "pmol/L", 200) == doctest::Approx(0.604));
    CHECK(canonical(lab_kind::c_peptide, "ng/mL", 0.5) == doctest::Approx(0.5));
    CHECK(canonical(lab_kind::fasting_glucose, "mmol/L", 5) == doctest::Approx(90.08));
    CHECK(canonical(lab_kind::serum_creatinine, "umol/L", 88.42) ==
          doctest::Approx(1.0).epsilon(1e-4));
    CHECK(canonical(lab_kind::body_weight, "[lb_av]", 100) == doctest::Approx(45.359));
    CHECK(canonical(lab_kind::hba1c, "mmol/mol", 53) == doctest::Approx(7.0).epsilon(0.001));
    CHECK(canonical(lab_kind::creatinine_clearance, "mL/min", 50) == doctest::Approx(50));
  }

  TEST_CASE("never guesses an unknown unit, and keeps antibody units as sent") {
    CHECK_FALSE(shipped().to_canonical(lab_kind::c_peptide, "mg/dL", 1).has_value());
    CHECK_FALSE(shipped().to_canonical(lab_kind::fasting_glucose, "", 1).has_value());
    const auto ab = shipped().to_canonical(lab_kind::gad65_antibody, "nmol/L", 0.05);
    REQUIRE(ab.has_value());
    CHECK(ab->unit == "nmol/L");
  }

  TEST_CASE("places of service and bill types map to setting classes") {
    CHECK(shipped().place_of_service("12") == setting_class::home);
    CHECK(shipped().place_of_service("04") == setting_class::home);
    CHECK(shipped().place_of_service("21") == setting_class::inpatient_or_snf);
    CHECK(shipped().place_of_service("32") == setting_class::nursing_facility);
    CHECK(shipped().place_of_service("61") == setting_class::other_institutional);
    CHECK(shipped().place_of_service("22") == setting_class::outpatient);
    CHECK(shipped().place_of_service("11") == setting_class::other);
    CHECK(shipped().bill_type("11") == setting_class::inpatient_or_snf);
    CHECK(shipped().bill_type("21") == setting_class::inpatient_or_snf);
    CHECK(shipped().bill_type("13") == setting_class::outpatient);
    CHECK(shipped().bill_type("32") == setting_class::home);
  }

  TEST_CASE("provider types come from NUCC prefixes and v2-0360 degrees") {
    CHECK(shipped().taxonomy("207RE0101X") == provider_type::physician);
    CHECK(shipped().taxonomy("363LF0000X") == provider_type::nurse_practitioner);
    CHECK(shipped().taxonomy("363A00000X") == provider_type::physician_assistant);
    CHECK(shipped().taxonomy("364SA2100X") == provider_type::clinical_nurse_specialist);
    CHECK(shipped().taxonomy("332B00000X") == provider_type::other);
    CHECK(shipped().taxonomy("") == provider_type::unknown);
    CHECK(shipped().qualification("MD") == provider_type::physician);
    CHECK(shipped().qualification("DO") == provider_type::physician);
    CHECK(shipped().qualification("NP") == provider_type::nurse_practitioner);
    CHECK(shipped().qualification("PA") == provider_type::physician_assistant);
    CHECK(shipped().qualification("RN") == provider_type::unknown);
  }

  TEST_CASE("HCPCS classes and drug indications follow docs/policy.md section 2") {
    CHECK(shipped().hcpcs("E0784") == hcpcs_class::csii);
    CHECK(shipped().hcpcs("E0781") == hcpcs_class::external);
    CHECK(shipped().hcpcs("E0783") == hcpcs_class::implantable);
    CHECK(shipped().hcpcs("62362") == hcpcs_class::implantable);
    CHECK(shipped().hcpcs("J1644") == hcpcs_class::drug);
    CHECK(shipped().drug_indication("J1644") == "thromboembolic");
    CHECK(shipped().drug_indication("J3370") == "excluded");
    CHECK(shipped().hcpcs("99213") == hcpcs_class::none);
  }

  TEST_CASE("an HCPCS code is the whole text, whatever its length") {
    auto sources = embedded_sources();
    sources.hcpcs = R"({"csii": ["E0784", "E078", "A"], "external": ["E07840", "ABCDEFG"],
                        "implantable": ["ABCDEFGH", "LONGER-THAN-SEVEN"], "drug": {}})";
    const auto t = tables::parse(sources);
    CHECK(t.hcpcs("E0784") == hcpcs_class::csii);
    CHECK(t.hcpcs("E078") == hcpcs_class::csii);
    CHECK(t.hcpcs("E07840") == hcpcs_class::external);
    CHECK(t.hcpcs("A") == hcpcs_class::csii);
    CHECK(t.hcpcs("") == hcpcs_class::none);             // the loader refuses an empty code
    CHECK(t.hcpcs("ABCDEFG") == hcpcs_class::external);  // seven: the longest kept as a number
    CHECK(t.hcpcs("ABCDEFGH") == hcpcs_class::implantable);
    CHECK(t.hcpcs("LONGER-THAN-SEVEN") == hcpcs_class::implantable);
    // Neither a prefix, an extension, a padded form nor another case names a listed code.
    for (const std::string_view other : {"E07", "E07841", "E0784 ", " E0784", "e0784", "ABCDEF",
                                         "ABCDEFGHI", "LONGER-THAN-SEVE"}) {
      CAPTURE(other);
      CHECK(t.hcpcs(other) == hcpcs_class::none);
    }
    CHECK(t.hcpcs(std::string_view("E078\0", 5)) == hcpcs_class::none);
    CHECK(t.hcpcs(std::string_view("\0E078", 5)) == hcpcs_class::none);
    CHECK(t.hcpcs(std::string_view("A\0", 2)) == hcpcs_class::none);
  }

  TEST_CASE("ICD-10 groups match prefixes and ranges") {
    CHECK(shipped().icd10("thromboembolic").contains("I2699"));
    CHECK(shipped().icd10("iron").contains("T454X2A"));
    CHECK_FALSE(shipped().icd10("iron").contains("T454X5A"));
    CHECK(shipped().icd10("malignant-neoplasm").contains("C509"));
    CHECK(shipped().icd10("malignant-neoplasm").contains("C969"));
    CHECK_FALSE(shipped().icd10("malignant-neoplasm").contains("D000"));
    CHECK(shipped().icd10("spasticity").contains("G35B1"));
    CHECK(shipped().icd10("recurring-hypoglycemia").contains("E161"));
    CHECK_FALSE(shipped().icd10("recurring-hypoglycemia").contains("E163"));
  }

  TEST_CASE("an ICD-10 group looked up once answers for each code; an unlisted one holds none") {
    const auto iron = shipped().icd10("iron");
    for (const std::string_view code : {"T454X1A", "T454X4A", "E8311", "E83118"}) {
      CAPTURE(code);
      CHECK(iron.contains(code));
    }
    for (const std::string_view code : {"T454X5A", "E831", "E8312", ""}) {
      CAPTURE(code);
      CHECK_FALSE(iron.contains(code));
    }
    // A group icd10.json does not list holds no code (nor does a default-made one).
    CHECK_FALSE(shipped().icd10("no-such-group").contains("E83118"));
    CHECK_FALSE(tables::icd10_group{}.contains("E83118"));
  }

  TEST_CASE("ICD-10 prefixes and ranges at their edges") {
    auto sources = embedded_sources();
    sources.icd10 = R"({"p": ["I26", "\u00e9", "Q  "], "r": ["C00-C96ZZZZ", "E10-E11"], "x": []})";
    const auto t = tables::parse(sources);
    // A prefix: codes at least as long that start with it, whatever follows (past seven
    // characters too); a shorter code or a neighbour does not match.
    CHECK(t.icd10("p").contains("I26"));
    CHECK(t.icd10("p").contains("I2699"));
    CHECK(t.icd10("p").contains("I26\xff\xff\xff\xff"));
    CHECK(t.icd10("p").contains("I260000099"));
    CHECK(t.icd10("p").contains("I26\t"));  // below a space: a prefix's bounds are not space-padded
    CHECK(t.icd10("p").contains(std::string_view("I26\0", 4)));
    CHECK_FALSE(t.icd10("p").contains("I2"));
    CHECK_FALSE(t.icd10("p").contains("I25"));
    CHECK_FALSE(t.icd10("p").contains("I27"));
    CHECK_FALSE(t.icd10("p").contains(""));
    CHECK(t.icd10("p").contains("\xc3\xa9X"));  // a prefix of bytes past ASCII
    CHECK(t.icd10("p").contains("Q  1"));
    CHECK_FALSE(t.icd10("p").contains("Q"));  // padded with spaces it would read "Q  "
    // A range: inclusive at both ends, compared after padding with spaces to seven.
    CHECK(t.icd10("r").contains("C00"));
    CHECK(t.icd10("r").contains("C000"));
    CHECK(t.icd10("r").contains("C96ZZZZ"));
    CHECK(t.icd10("r").contains("C96ZZZZ9"));  // only the first seven characters count
    CHECK_FALSE(t.icd10("r").contains("C"));   // "C" + spaces sorts before "C00"
    CHECK_FALSE(t.icd10("r").contains("C97"));
    CHECK(t.icd10("r").contains("E11"));
    CHECK_FALSE(t.icd10("r").contains("E119"));  // past "E11    "
    CHECK_FALSE(t.icd10("r").contains("\xc3\xa9"));
    CHECK_FALSE(t.icd10("x").contains("I26"));
    CHECK_FALSE(t.icd10("no-such-group").contains("I26"));
  }

  TEST_CASE("ICD-10 entries are codes of 1 to 7 characters") {
    auto sources = embedded_sources();
    for (const char* bad :
         {R"({"g": ["I26"], "h": ["E1234567"]})", R"({"h": ["C00-"]})", R"({"h": ["-C00"]})",
          R"({"h": ["C00-C96ZZZZ", "-"]})", R"({"h": ["C00-C96ZZZZZ"]})"}) {
      CAPTURE(bad);
      sources.icd10 = bad;
      CHECK(error_of(sources).find("icd10.json: /h: '") == 0);
      CHECK(error_of(sources).find("is not a code or a range of codes of 1 to 7 characters") !=
            std::string::npos);
    }
    sources.icd10 = R"({"h": [""]})";
    CHECK(error_of(sources) == "icd10.json: /h/0: must be a non-empty string");
    sources.icd10 = R"({"h": ["C96-C00"]})";
    CHECK(error_of(sources) == "icd10.json: /h: range C96-C00 ends before it starts");
  }

  TEST_CASE("evidence codes: the covgate system, site codes mapped onto it, value types") {
    CHECK(shipped().evidence("urn:covgate:evidence", "smbg-per-day") == "smbg-per-day");
    CHECK_FALSE(shipped().evidence("urn:covgate:evidence", "made-up").has_value());
    CHECK(shipped().evidence("http://snomed.info/sct", "302866003") == "recurring-hypoglycemia");
    CHECK(shipped().evidence_value_type("mdi-injections-per-day") == "quantity");
    CHECK(shipped().evidence_value_type("tumor-unresectable") == "boolean");
    CHECK(shipped().patient_identifier_systems().front() == "http://hl7.org/fhir/sid/us-mbi");
  }

  TEST_CASE("a broken table names its file, path and problem") {
    auto sources = embedded_sources();
    sources.units = R"({"c-peptide": {"canonical": "ng/mL", "from": {"nmol/L": -3}}})";
    CHECK(error_of(sources) == "units.json: /c-peptide/from/nmol/L: must be a positive number");
    sources = embedded_sources();
    sources.loinc = R"({"1986-9": {"kind": "c-peptid"}})";
    CHECK(error_of(sources) == "loinc.json: /1986-9/kind: unknown lab kind 'c-peptid'");
    sources = embedded_sources();
    sources.pos = R"({"home": ["12"], "outpatient": ["12"]})";
    CHECK(error_of(sources).find("pos.json: /outpatient: code 12 is listed twice") == 0);
    sources = embedded_sources();
    sources.evidence = "{ not json";
    CHECK(error_of(sources).find("evidence.json: /: not valid JSON at line 1, column") == 0);
    sources = embedded_sources();
    sources.units = R"({"c-peptide": {"canonical": "ng/mL", "from": {}}})";
    CHECK(error_of(sources).find("units.json: /glucose: is required") == 0);
  }

  TEST_CASE("HL7 v2 spellings of units convert like their UCUM codes") {
    CHECK(canonical(lab_kind::c_peptide, "ng/ml", 0.6) == doctest::Approx(0.6));
    CHECK(canonical(lab_kind::c_peptide, "nmol/l", 0.2) == doctest::Approx(0.604));
    CHECK(canonical(lab_kind::fasting_glucose, "mg/dl", 182) == doctest::Approx(182));
    CHECK(canonical(lab_kind::glucose, "mmol/l", 5) == doctest::Approx(90.08));
    CHECK(canonical(lab_kind::serum_creatinine, "mg/dl", 1.4) == doctest::Approx(1.4));
    CHECK(canonical(lab_kind::egfr, "ml/min/1.73m2", 37) == doctest::Approx(37));
  }

  TEST_CASE("HL7 v2 identifier types, classes and coding systems come from the tables") {
    CHECK(shipped().hl7v2_identifier_type("MC") == "http://hl7.org/fhir/sid/us-mbi");
    CHECK(shipped().hl7v2_identifier_type("MR").empty());
    CHECK(shipped().hl7v2_assigning_authority("2.16.840.1.113883.4.927") ==
          "http://hl7.org/fhir/sid/us-mbi");
    CHECK(shipped().hl7v2_patient_class("O") == "AMB");
    CHECK(shipped().hl7v2_patient_class("I") == "IMP");
    CHECK(shipped().hl7v2_patient_class("E") == "EMER");
    CHECK(shipped().hl7v2_patient_class("R").empty());
    CHECK(shipped().hl7v2_coding_system("LN") == "http://loinc.org");
    CHECK(shipped().hl7v2_coding_system("SCT") == "http://snomed.info/sct");
    CHECK(shipped().evidence_hl7v2_system() == "99COVGATE");
    CHECK(shipped().hl7v2_local_code("NORTHLAB", "L", "GLU").empty());
  }

  TEST_CASE("local codes map to LOINC per sender, or for every sender") {
    auto sources = embedded_sources();
    sources.hl7v2 = R"({"local_codes": [
      {"sender": "NORTHLAB", "system": "L", "code": "GLU", "loinc": "1558-6"},
      {"system": "L", "code": "GLU", "loinc": "2345-7"}]})";
    const auto t = tables::parse(sources);
    CHECK(t.hl7v2_local_code("NORTHLAB", "L", "GLU") == "1558-6");
    CHECK(t.hl7v2_local_code("SOUTHLAB", "L", "GLU").empty());
    CHECK(t.hl7v2_local_code("", "L", "GLU") == "2345-7");
    CHECK(t.hl7v2_local_code("NORTHLAB", "99LAB", "GLU").empty());
    CHECK(t.hl7v2_patient_class("O").empty());  // this hl7v2.json lists no classes
  }

  TEST_CASE("tables written before HL7 v2 was read still parse, with the documented defaults") {
    auto sources = embedded_sources();
    sources.identity = R"({"patient_identifier_systems": ["http://hl7.org/fhir/sid/us-mbi"]})";
    sources.evidence = R"({"system": "urn:covgate:evidence", "codes": {}})";
    sources.hl7v2.clear();  // a mappings folder without hl7v2.json
    const auto t = tables::parse(sources);
    CHECK(t.hl7v2_identifier_type("MC") == "http://hl7.org/fhir/sid/us-mbi");
    CHECK(t.evidence_hl7v2_system() == "99COVGATE");
    CHECK(t.hl7v2_patient_class("O") == "AMB");
  }

  TEST_CASE("a broken HL7 v2 table names its file, path and problem") {
    auto sources = embedded_sources();
    sources.hl7v2 = R"({"local_codes": [{"system": "L", "code": "X", "loinc": "1234-5"}]})";
    CHECK(error_of(sources) ==
          "hl7v2.json: /local_codes/0/loinc: '1234-5' is not listed in "
          "loinc.json");
    sources.hl7v2 = R"({"local_codes": [{"system": "L", "loinc": "2345-7"}]})";
    CHECK(error_of(sources) == "hl7v2.json: /local_codes/0/code: is required");
    sources.hl7v2 = R"({"local_codes": [{"system": "L", "code": "G", "loinc": "2345-7"},
                                        {"system": "L", "code": "G", "loinc": "1558-6"}]})";
    CHECK(error_of(sources) == "hl7v2.json: /local_codes/1: code G of system L is listed twice");
    sources.hl7v2 = R"({"patient_class": {"O": 7}})";
    CHECK(error_of(sources) == "hl7v2.json: /patient_class/O: must be a non-empty string");
    sources = embedded_sources();
    sources.identity = R"({"patient_identifier_systems": ["x"], "hl7v2": []})";
    CHECK(error_of(sources) == "identity.json: /hl7v2: must be an object");
    sources = embedded_sources();
    sources.evidence = R"({"system": "urn:covgate:evidence", "hl7v2_system": "", "codes": {}})";
    CHECK(error_of(sources) == "evidence.json: /hl7v2_system: must be a non-empty string");
  }
}
