#include "covgate/fhir/reader.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "covgate/fhir/linker.hpp"
#include "covgate/model/fact_json.hpp"

using namespace covgate;
using fhir::encoding;
using fhir::severity;

namespace {

const mapping::tables& tables() {
  static const auto t = mapping::tables::parse(mapping::embedded_sources());
  return t;
}

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(COVGATE_SOURCE_DIR) + "/tests/fixtures/fhir/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

fhir::read_result json(const std::string& text) {
  return fhir::read(text, encoding::json, tables());
}

std::vector<std::string> lines(const fhir::read_result& r) {
  std::vector<std::string> out;
  for (const auto& f : r.facts) {
    std::string line;
    model::append_json(line, f);
    out.push_back(line);
  }
  return out;
}

const fhir::issue* find_issue(const fhir::read_result& r, std::string_view expression) {
  for (const auto& i : r.issues) {
    if (i.expression == expression) return &i;
  }
  return nullptr;
}

template <class T>
std::vector<T> facts_of(const fhir::read_result& r) {
  std::vector<T> out;
  for (const auto& f : r.facts) {
    if (const auto* v = std::get_if<T>(&f)) out.push_back(*v);
  }
  return out;
}

std::string observation(std::string_view body) {
  return R"({"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},)" +
         std::string(body) + "}";
}

}  // namespace

TEST_SUITE("fhir.reader") {
  TEST_CASE("XML and JSON forms of the same resources give identical facts") {
    const auto from_json =
        fhir::read(fixture("pump-patient-bundle.json"), encoding::json, tables());
    const auto from_xml = fhir::read(fixture("pump-patient-bundle.xml"), encoding::xml, tables());
    CHECK_FALSE(from_json.has_errors());
    CHECK_FALSE(from_xml.has_errors());
    CHECK(lines(from_json).size() == 7);
    CHECK(lines(from_json) == lines(from_xml));
  }

  TEST_CASE("a C-peptide in nmol/L is converted with its range, fasting from its Specimen") {
    const auto r = fhir::read(fixture("pump-patient-bundle.json"), encoding::json, tables());
    const auto labs = facts_of<model::lab_result>(r);
    REQUIRE(labs.size() == 1);
    CHECK(labs[0].kind == mapping::lab_kind::c_peptide);
    CHECK(labs[0].value == doctest::Approx(0.604));
    CHECK(labs[0].unit == "ng/mL");
    CHECK(*labs[0].low == doctest::Approx(0.7852));
    CHECK(labs[0].fasting == model::fasting_state::fasting);
    CHECK(labs[0].patient_key == "1EG4TE5MK73");
    CHECK(labs[0].effective.day == model::date{2026, 1, 16});
  }

  TEST_CASE("every reference form resolves: urn:uuid, absolute, relative, contained, logical") {
    const auto r = fhir::read(fixture("pump-patient-bundle.json"), encoding::json, tables());
    const auto encounters = facts_of<model::encounter>(r);
    REQUIRE(encounters.size() == 1);
    CHECK(encounters[0].patient_key == "1EG4TE5MK73");  // urn:uuid
    REQUIRE(encounters[0].participants.size() == 2);
    CHECK(encounters[0].participants[0].reference == "Practitioner/doc1");  // absolute URL
    CHECK(encounters[0].participants[0].type == mapping::provider_type::physician);
    CHECK(encounters[0].participants[1].type == mapping::provider_type::nurse_practitioner);
    const auto evidence = facts_of<model::evidence>(r);
    REQUIRE(evidence.size() == 1);
    CHECK(evidence[0].patient_key == "1EG4TE5MK73");  // logical (identifier)
    const auto direct = json(
        R"({"resourceType":"Observation","id":"o2","status":"final","contained":[{"resourceType":"Patient","id":"pt","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"9AA9AA9AA99"}]}],"subject":{"reference":"#pt"},"code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"effectiveDateTime":"2026-02-01","valueQuantity":{"value":7.4,"code":"%"}})");
    const auto labs = facts_of<model::lab_result>(direct);
    REQUIRE(labs.size() == 1);
    CHECK(labs[0].patient_key == "9AA9AA9AA99");  // contained
    // "#pt" names a resource contained in the one that says it: in a Bundle, the next entry
    // (with nothing contained) does not reach the first entry's Patient.
    const auto entries = json(
        R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Observation","id":"o2","status":"final","contained":[{"resourceType":"Patient","id":"pt","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"9AA9AA9AA99"}]}],"subject":{"reference":"#pt"},"code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"effectiveDateTime":"2026-02-01","valueQuantity":{"value":7.4,"code":"%"}}},{"resource":{"resourceType":"Observation","id":"o3","status":"final","subject":{"reference":"#pt"},"code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"effectiveDateTime":"2026-02-01","valueQuantity":{"value":7.5,"code":"%"}}}]})");
    const auto bundled = facts_of<model::lab_result>(entries);
    REQUIRE(bundled.size() == 2);
    CHECK(bundled[0].patient_key == "9AA9AA9AA99");
    CHECK(bundled[1].resource_id == "Observation/o3");
    CHECK(bundled[1].patient == "#pt");
    CHECK(bundled[1].patient_key.empty());
    const auto relative = json(observation(
        R"("status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"effectiveDateTime":"2026-02-01","valueQuantity":{"value":7.4,"code":"%"})"));
    REQUIRE(facts_of<model::lab_result>(relative).size() == 1);
    CHECK(facts_of<model::lab_result>(relative)[0].patient == "Patient/p1");  // relative
  }

  TEST_CASE("entered-in-error retracts; preliminary does not count") {
    const auto retracted = json(observation(
        R"("status":"entered-in-error","code":{"coding":[{"system":"http://loinc.org","code":"1986-9"}]})"));
    REQUIRE(facts_of<model::retraction>(retracted).size() == 1);
    CHECK(facts_of<model::retraction>(retracted)[0].resource_id == "Observation/o1");
    const auto preliminary = json(observation(
        R"("status":"preliminary","code":{"coding":[{"system":"http://loinc.org","code":"1986-9"}]},"effectiveDateTime":"2026-02-01","valueQuantity":{"value":1,"code":"ng/mL"})"));
    CHECK(preliminary.facts.empty());
    REQUIRE(find_issue(preliminary, "Observation.status"));
    CHECK(find_issue(preliminary, "Observation.status")->level == severity::information);
  }

  TEST_CASE("missing or mistyped required elements get errors with their FHIRPath") {
    const auto no_status = json(observation(R"("code":{"text":"x"})"));
    REQUIRE(find_issue(no_status, "Observation.status"));
    CHECK(find_issue(no_status, "Observation.status")->code == "required");
    const auto typed = json(observation(R"("status":5,"code":{"text":"x"})"));
    CHECK(find_issue(typed, "Observation.status")->code == "invalid");
    const auto no_code = json(observation(R"("status":"final")"));
    CHECK(find_issue(no_code, "Observation.code"));
    const auto no_class = json(R"({"resourceType":"Encounter","status":"finished"})");
    CHECK(find_issue(no_class, "Encounter.class"));
    const auto no_encounter_status = json(R"({"resourceType":"Encounter","class":{"code":"AMB"}})");
    CHECK(find_issue(no_encounter_status, "Encounter.status"));
    const auto bad_value = json(observation(
        R"("status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1986-9"}]},"effectiveDateTime":"2026-02-01","valueQuantity":{"value":"high","code":"ng/mL"})"));
    CHECK(find_issue(bad_value, "Observation.valueQuantity.value")->code == "invalid");
    CHECK(bad_value.invalid == 1);
    // The path names the array item the bad value sits in, and a list where one value belongs.
    const auto bad_component = json(observation(
        R"("status":"final","code":{"coding":[{"system":"http://loinc.org","code":"55284-4"}]},"effectiveDateTime":"2026-02-01","component":[{"code":{"coding":[{"code":"8480-6"}]},"valueQuantity":{"value":120}},{"code":{"coding":[{"code":"8462-4"}]},"valueQuantity":{"value":true}}])"));
    REQUIRE(find_issue(bad_component, "Observation.component[1].valueQuantity.value"));
    CHECK(find_issue(bad_component, "Observation.component[1].valueQuantity.value")->diagnostics ==
          "component.valueQuantity.value must be a decimal");
    CHECK_FALSE(find_issue(bad_component, "Observation.component[0].valueQuantity.value"));
    const auto listed = json(R"({"resourceType":"Patient","id":"p1","birthDate":["1950-01-01"]})");
    REQUIRE(find_issue(listed, "Patient.birthDate"));
    CHECK(find_issue(listed, "Patient.birthDate")->diagnostics ==
          "birthDate must be a single value, not a list");
  }

  TEST_CASE("datatype issues follow the tables' order and the first of a repeated member") {
    // Valid resources are screened in one walk over their members; these hold that walk to
    // the checks that name issues, in the cases where the two could part.
    const auto order = json(observation(
        R"("valueQuantity":{"value":"x"},"code":{"coding":[{"code":" y"}]},"status":5)"));
    REQUIRE(order.issues.size() >= 3);
    CHECK(order.issues[0].expression == "Observation.status");
    CHECK(order.issues[1].expression == "Observation.code.coding[0].code");
    CHECK(order.issues[2].expression == "Observation.valueQuantity.value");
    const auto first_valid =
        json(R"({"resourceType":"Patient","id":"p1","gender":"female","gender":" x"})");
    CHECK_FALSE(find_issue(first_valid, "Patient.gender"));
    const auto first_invalid =
        json(R"({"resourceType":"Patient","id":"p1","gender":" x","gender":"female"})");
    REQUIRE(find_issue(first_invalid, "Patient.gender"));
    CHECK(find_issue(first_invalid, "Patient.gender")->diagnostics == "gender must be a code");
    const auto empty_list = json(R"({"resourceType":"Patient","id":"p1","birthDate":[]})");
    CHECK_FALSE(find_issue(empty_list, "Patient.birthDate"));
    const auto not_an_object =
        json(R"({"resourceType":"Patient","id":"p1","identifier":["x",[1],{"value":2}]})");
    REQUIRE(not_an_object.issues.size() == 1);
    CHECK(not_an_object.issues[0].expression == "Patient.identifier[2].value");
  }

  TEST_CASE("a member named like a checked element up to its last byte is not that element") {
    // Lookalikes of effectiveDateTime (17 bytes: differing in the last, or only in the ninth),
    // of status (6 bytes) and of id (2) hold what those elements may not: no issue is named
    // for them, and the real names still name theirs. (A screen that took a lookalike for
    // the element would only send the resource through the checks, which find nothing: only
    // a real name missed fails here.)
    const std::string coded =
        R"("code":{"coding":[{"system":"http://loinc.org","code":"1986-9"}]},)";
    const auto lookalikes = json(observation(
        coded +
        R"("statuz":" x","effectiveDateTimf":"soon","effectiveDateTimE":[1],"status":"final",)"
        R"("effectivXDateTime":"soon","iD":"not an id!",)"
        R"("effectiveDateTime":"2026-02-01","valueQuantity":{"value":3,"code":"ng/mL"})"));
    CHECK(lookalikes.issues.empty());
    const auto real = json(observation(
        coded +
        R"("status":" x","effectiveDateTime":"soon","valueQuantity":{"value":3,"code":"ng/mL"})"));
    CHECK(find_issue(real, "Observation.status"));
    CHECK(find_issue(real, "Observation.effectiveDateTime"));
  }

  TEST_CASE("an unknown unit is kept and flagged, never guessed") {
    const auto r = json(observation(
        R"("status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1986-9"}]},"effectiveDateTime":"2026-02-01","valueQuantity":{"value":3,"code":"mg/dL"})"));
    const auto labs = facts_of<model::lab_result>(r);
    REQUIRE(labs.size() == 1);
    CHECK_FALSE(labs[0].unit_known);
    CHECK(labs[0].value == 3);
    CHECK(find_issue(r, "Observation.valueQuantity.code")->level == severity::warning);
  }

  TEST_CASE("unparseable input, an unknown resourceType and the wrong XML namespace are refused") {
    const auto broken = json("{\"resourceType\": \"Observation\", ");
    CHECK(broken.rejected);
    CHECK(broken.issues.front().level == severity::fatal);
    CHECK(json(R"({"resourceType":"Observaton"})").issues.front().code == "not-supported");
    const auto xml = fhir::read("<Observation><status value=\"final\"/>", encoding::xml, tables());
    CHECK(xml.rejected);
    const auto namespace_less =
        fhir::read("<Observation><status value=\"final\"/></Observation>", encoding::xml, tables());
    CHECK(namespace_less.rejected);
  }

  TEST_CASE("a transaction with one bad entry is refused whole; a batch keeps the good ones") {
    const std::string entries =
        R"("entry":[{"resource":{"resourceType":"Patient","id":"p1","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"1EG4TE5MK73"}]},"request":{"method":"PUT","url":"Patient/p1"}},
                    {"resource":{"resourceType":"Observation","code":{"text":"x"}},"request":{"method":"POST","url":"Observation"}}])";
    const auto transaction =
        json(R"({"resourceType":"Bundle","type":"transaction",)" + entries + "}");
    CHECK(transaction.rejected);
    CHECK(transaction.facts.empty());
    CHECK(find_issue(transaction, "Bundle.entry[1].resource.status"));
    const auto batch = json(R"({"resourceType":"Bundle","type":"batch",)" + entries + "}");
    CHECK_FALSE(batch.rejected);
    CHECK(facts_of<model::patient>(batch).size() == 1);
  }

  TEST_CASE("a message Bundle must start with a MessageHeader") {
    const auto r = json(
        R"({"resourceType":"Bundle","type":"message","entry":[{"resource":{"resourceType":"Patient","id":"p"}}]})");
    CHECK(find_issue(r, "Bundle.entry[0]"));
    const auto ok = json(
        R"({"resourceType":"Bundle","type":"message","entry":[{"resource":{"resourceType":"MessageHeader","eventUri":"urn:x"}},{"resource":{"resourceType":"Patient","id":"p"}}]})");
    CHECK_FALSE(ok.has_errors());
    CHECK(facts_of<model::patient>(ok).size() == 1);
  }

  TEST_CASE("evidence Observations and Conditions become evidence; ICD-10 loses its dot") {
    const auto r = fhir::read(fixture("pump-patient-bundle.json"), encoding::json, tables());
    const auto conditions = facts_of<model::condition>(r);
    REQUIRE(conditions.size() == 1);
    CHECK(conditions[0].code == "E10649");
    const auto snomed = json(
        R"({"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"302866003"}]}})");
    const auto evidence = facts_of<model::evidence>(snomed);
    REQUIRE(evidence.size() == 1);
    CHECK(evidence[0].code == "recurring-hypoglycemia");
    CHECK(evidence[0].flag);
    const auto smbg = json(observation(
        R"("status":"final","code":{"coding":[{"system":"urn:covgate:evidence","code":"smbg-per-day"}]},"effectiveDateTime":"2026-01-01","valueQuantity":{"value":4}})"));
    REQUIRE(facts_of<model::evidence>(smbg).size() == 1);
    CHECK(facts_of<model::evidence>(smbg)[0].number == 4);
  }

  TEST_CASE("NDJSON reads one resource per line and names the line of a bad one") {
    const std::string text = R"({"resourceType":"Patient","id":"a"})"
                             "\n"
                             R"({"resourceType":"Patient", oops})"
                             "\n\n"
                             R"({"resourceType":"Patient","id":"b"})"
                             "\n";
    CHECK(fhir::sniff(text) == encoding::ndjson);
    const auto r = fhir::read(text, encoding::ndjson, tables());
    CHECK(facts_of<model::patient>(r).size() == 2);
    REQUIRE_FALSE(r.issues.empty());
    CHECK(r.issues.front().diagnostics.rfind("line 2: ", 0) == 0);
  }

  TEST_CASE("NDJSON applies the size limit per line and numbers lines from the caller's start") {
    const std::string text = R"({"resourceType":"Patient","id":"a"})"
                             "\n"
                             R"({"resourceType":"Patient","id":"a-much-longer-identifier"})"
                             "\n";
    fhir::read_limits limits;
    limits.max_bytes = 40;  // the first line fits, the second does not, the whole never would
    const auto r = fhir::read_ndjson(text, 1001, tables(), limits);
    CHECK(facts_of<model::patient>(r).size() == 1);
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].code == "too-costly");
    CHECK(r.issues[0].diagnostics.rfind("line 1002: ", 0) == 0);
    CHECK_FALSE(r.rejected);
    CHECK(r.invalid == 1);
  }

  TEST_CASE("NDJSON applies the resource limit per line and counts each line's resources") {
    const std::string text =
        R"({"resourceType":"Patient","id":"a"})"
        "\n"
        R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"b"}}]})"
        "\n"
        R"({"resourceType":"Patient","id":"c"})"
        "\n";
    fhir::read_limits limits;
    limits.max_resources = 1;  // each Patient line fits; the Bundle and its entry do not
    const auto r = fhir::read_ndjson(text, 1, tables(), limits);
    CHECK(facts_of<model::patient>(r).size() == 2);
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].diagnostics == "line 2: more resources than the configured limit");
    CHECK(r.resources == 4);
    CHECK(r.invalid == 1);
    CHECK_FALSE(r.rejected);
  }

  TEST_CASE("sniffs JSON, NDJSON and XML") {
    CHECK(fhir::sniff("  {\"a\": {\"b\": \"}\"}}\n") == encoding::json);
    CHECK(fhir::sniff("\xEF\xBB\xBF<Bundle/>") == encoding::xml);
    CHECK(fhir::sniff("{}\n{}\n") == encoding::ndjson);
  }

  TEST_CASE("limits: message size, Bundle depth and resource count") {
    fhir::read_limits small;
    small.max_bytes = 10;
    CHECK(fhir::read(R"({"resourceType":"Patient"})", encoding::json, tables(), small).rejected);
    fhir::read_limits shallow;
    shallow.max_bundle_depth = 1;
    const auto nested = fhir::read(
        R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Bundle","type":"collection"}}]})",
        encoding::json, tables(), shallow);
    CHECK(find_issue(nested, "Bundle.entry[0].resource")->code == "too-costly");
    fhir::read_limits few;
    few.max_resources = 2;
    const auto many = fhir::read(
        R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Patient"}},{"resource":{"resourceType":"Patient"}}]})",
        encoding::json, tables(), few);
    CHECK(many.rejected);
  }

  TEST_CASE("the OperationOutcome lists issues with their expression, or says accepted") {
    const auto r = json(observation(R"("code":{"text":"x"})"));
    const auto outcome = fhir::operation_outcome_json(r);
    CHECK(outcome.find(R"("resourceType":"OperationOutcome")") != std::string::npos);
    CHECK(outcome.find(R"("expression":["Observation.status"])") != std::string::npos);
    CHECK(fhir::operation_outcome_json({}).find("accepted") != std::string::npos);
  }
}

TEST_SUITE("fhir.reader.hostile") {
  TEST_CASE("regression: a PractitionerRole that references itself does not recurse") {
    // Found by the XML fuzzer: role → practitioner → the same role overflowed the stack.
    const auto r = json(
        R"({"resourceType":"Bundle","type":"collection","entry":[
          {"fullUrl":"urn:uuid:r","resource":{"resourceType":"PractitionerRole","practitioner":{"reference":"urn:uuid:r"}}},
          {"resource":{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p"},"participant":[{"individual":{"reference":"urn:uuid:r"}}]}}]})");
    const auto encounters = facts_of<model::encounter>(r);
    REQUIRE(encounters.size() == 1);
    CHECK(encounters[0].participants[0].type == mapping::provider_type::unknown);
  }
}

TEST_SUITE("fhir.linker") {
  TEST_CASE("a fact that arrives before its Patient waits and is released with the key") {
    std::vector<model::fact> ready;
    fhir::linker link([&](const model::fact& f) { ready.push_back(f); });
    model::lab_result lab;
    lab.resource_id = "Observation/o1";
    lab.patient = "Patient/p1";
    link.add(lab);
    CHECK(ready.empty());
    CHECK(link.waiting() == 1);
    model::patient patient;
    patient.resource_id = "Patient/p1";
    patient.key = "1EG4TE5MK73";
    link.add(patient);
    REQUIRE(ready.size() == 2);
    CHECK(std::get<model::lab_result>(ready[1]).patient_key == "1EG4TE5MK73");
    CHECK(link.waiting() == 0);
    model::encounter later;
    later.resource_id = "Encounter/e1";
    later.patient = "Patient/p1";
    link.add(later);
    CHECK(std::get<model::encounter>(ready.back()).patient_key == "1EG4TE5MK73");
  }

  TEST_CASE("facts whose Patient never comes are handed over, not dropped") {
    fhir::linker link([](const model::fact&) {});
    model::condition c;
    c.resource_id = "Condition/c";
    c.patient = "Patient/unknown";
    link.add(c);
    CHECK(link.take_waiting().size() == 1);
    CHECK(link.waiting() == 0);
  }

  TEST_CASE("a forgotten Patient links nothing more; forgotten waiting facts are not released") {
    std::vector<model::fact> ready;
    fhir::linker link([&](const model::fact& f) { ready.push_back(f); });
    model::patient patient;
    patient.resource_id = "Patient/p1";
    patient.key = "1EG4TE5MK73";
    link.add(patient);
    link.forget("Patient/p1");
    model::lab_result lab;
    lab.resource_id = "Observation/o1#component[0]";
    lab.patient = "Patient/p1";
    link.add(lab);
    CHECK(ready.size() == 1);  // the Patient only: the lab waits again
    CHECK(link.waiting() == 1);
    model::encounter visit;
    visit.resource_id = "Encounter/e1";
    visit.patient = "Patient/p1";
    link.add(visit);
    CHECK(link.waiting() == 2);
    link.forget("Observation/o1");  // by its resource, whatever its components' suffixes
    CHECK(link.waiting() == 1);
    link.forget("Observation/unknown");
    CHECK(link.waiting() == 1);
    link.add(patient);
    REQUIRE(ready.size() == 3);
    CHECK(model::resource_id_of(ready.back()) == "Encounter/e1");
    CHECK(link.waiting() == 0);
  }

  TEST_CASE("each fact gets its own Patient's key, the one linked last or another, as resent") {
    std::vector<model::fact> ready;
    fhir::linker link([&](const model::fact& f) { ready.push_back(f); });
    const auto patient = [&](std::string id, std::string key) {
      model::patient p;
      p.resource_id = std::move(id);
      p.key = std::move(key);
      link.add(p);
    };
    const auto key_of_lab_for = [&](std::string reference) {
      model::lab_result lab;
      lab.resource_id = "Observation/" + reference;
      lab.patient = std::move(reference);
      link.add(lab);
      return std::get<model::lab_result>(ready.back()).patient_key;
    };
    patient("Patient/p1", "KEY1");
    CHECK(key_of_lab_for("Patient/p1") == "KEY1");
    patient("Patient/p2", "KEY2");
    CHECK(key_of_lab_for("Patient/p2") == "KEY2");
    CHECK(key_of_lab_for("Patient/p1") == "KEY1");
    CHECK(key_of_lab_for("Patient/p2") == "KEY2");
    CHECK(key_of_lab_for("Patient/p1") == "KEY1");  // p1's link is the last one here
    patient("Patient/p1", "KEY1B");  // the same Patient sent again with another identifier
    CHECK(key_of_lab_for("Patient/p1") == "KEY1B");
    patient("Patient/p2", "");  // without one: its link stays
    CHECK(key_of_lab_for("Patient/p2") == "KEY2");
    CHECK(key_of_lab_for("Patient/p1") == "KEY1B");
    CHECK(link.waiting() == 0);
  }

  TEST_CASE("link_in_place links what add() would hand on at once, and nothing that must wait") {
    const auto patient_of = [](std::string id, std::string key) {
      model::patient p;
      p.resource_id = std::move(id);
      p.key = std::move(key);
      return model::fact(std::move(p));
    };
    std::vector<model::fact> ready;
    fhir::linker link([&](const model::fact& f) { ready.push_back(f); });
    model::fact patient = patient_of("Patient/p1", "1EG4TE5MK73");
    CHECK(link.link_in_place(patient));  // the Patient's key is known from here on
    model::fact lab = model::lab_result{};
    std::get<model::lab_result>(lab).resource_id = "Observation/o1";
    std::get<model::lab_result>(lab).patient = "Patient/p1";
    CHECK(link.link_in_place(lab));
    CHECK(std::get<model::lab_result>(lab).patient_key == "1EG4TE5MK73");
    model::fact keyed = model::condition{};
    std::get<model::condition>(keyed).patient = "Patient/p9";
    std::get<model::condition>(keyed).patient_key = "KEY9";  // named already: linked as it is
    CHECK(link.link_in_place(keyed));
    CHECK(std::get<model::condition>(keyed).patient_key == "KEY9");
    model::fact practitioner = model::practitioner{};  // needs no patient
    std::get<model::practitioner>(practitioner).resource_id = "Practitioner/d1";
    CHECK(link.link_in_place(practitioner));
    CHECK(ready.empty());  // nothing was handed on
    CHECK(link.waiting() == 0);

    // A fact of a Patient not yet come is left as it was, for add() to keep.
    model::fact early = model::encounter{};
    std::get<model::encounter>(early).resource_id = "Encounter/e2";
    std::get<model::encounter>(early).patient = "Patient/p2";
    const auto before = early;
    CHECK_FALSE(link.link_in_place(early));
    CHECK(early == before);
    link.add(std::move(early));
    CHECK(link.waiting() == 1);
    // While a fact waits, nothing links in place, not even a fact of a known Patient: a
    // Patient's arrival would release what waits for it, after it.
    model::fact lab2 = model::lab_result{};
    std::get<model::lab_result>(lab2).patient = "Patient/p1";
    CHECK_FALSE(link.link_in_place(lab2));
    CHECK(std::get<model::lab_result>(lab2).patient_key.empty());
    model::fact patient2 = patient_of("Patient/p2", "2EG4TE5MK73");
    CHECK_FALSE(link.link_in_place(patient2));
    link.add(std::move(patient2));
    REQUIRE(ready.size() == 2);  // the Patient, then the encounter that waited for it
    CHECK(model::resource_id_of(ready[0]) == "Patient/p2");
    CHECK(std::get<model::encounter>(ready[1]).patient_key == "2EG4TE5MK73");
    CHECK(link.waiting() == 0);
  }
}

TEST_SUITE("model.moment") {
  TEST_CASE("parses FHIR dates and times, converting offsets to UTC") {
    const auto a = model::parse_fhir_datetime("2026-01-15T09:30:00-05:00");
    const auto b = model::parse_fhir_datetime("2026-01-15T14:30:00Z");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->utc_minutes == b->utc_minutes);
    CHECK(a->day == model::date{2026, 1, 15});
    const auto date_only = model::parse_fhir_datetime("2026-01-15");
    CHECK_FALSE(date_only->has_time);
    CHECK(date_only->utc_minutes ==
          std::int64_t{model::date{2026, 1, 15}.days_since_epoch()} * 1440);
    CHECK(model::parse_fhir_datetime("2026-02")->day == model::date{2026, 2, 1});
    CHECK(model::parse_fhir_datetime("2026-01-15T09:30:00.123+01:00"));
    CHECK_FALSE(model::parse_fhir_datetime("2026-13-01"));
    CHECK_FALSE(model::parse_fhir_datetime("2026-01-15T25:00:00Z"));
    CHECK_FALSE(model::parse_fhir_datetime("15/01/2026"));
  }
}

TEST_SUITE("fhir.reader.xml") {
  TEST_CASE("a lone XML resource reads like its JSON twin, amended status and lastUpdated kept") {
    const auto from_json = json(
        R"({"resourceType":"Observation","id":"a1c","meta":{"lastUpdated":"2026-02-02T10:00:00Z"},"status":"amended","code":{"coding":[{"system":"http://loinc.org","code":"59261-8"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-02-01","valueQuantity":{"value":53,"unit":"mmol/mol","system":"http://unitsofmeasure.org","code":"mmol/mol"},"interpretation":[{"coding":[{"code":"H"}]}]})");
    const auto from_xml = fhir::read(
        R"(<Observation xmlns="http://hl7.org/fhir"><id value="a1c"/><meta><lastUpdated value="2026-02-02T10:00:00Z"/></meta><status value="amended"/><code><coding><system value="http://loinc.org"/><code value="59261-8"/></coding></code><subject><reference value="Patient/p1"/></subject><effectiveDateTime value="2026-02-01"/><valueQuantity><value value="53"/><unit value="mmol/mol"/><system value="http://unitsofmeasure.org"/><code value="mmol/mol"/></valueQuantity><interpretation><coding><code value="H"/></coding></interpretation></Observation>)",
        encoding::xml, tables());
    CHECK_FALSE(from_xml.has_errors());
    CHECK(lines(from_json) == lines(from_xml));
    const auto labs = facts_of<model::lab_result>(from_xml);
    REQUIRE(labs.size() == 1);
    CHECK(labs[0].status == "amended");
    CHECK(labs[0].last_updated == "2026-02-02T10:00:00Z");
    CHECK(labs[0].value == doctest::Approx(7.0).epsilon(0.001));
    CHECK(labs[0].interpretation == std::vector<std::string>{"H"});
  }

  TEST_CASE("XML errors carry the same FHIRPath as JSON ones") {
    const auto r = fhir::read(
        R"(<Encounter xmlns="http://hl7.org/fhir"><status value="finished"/></Encounter>)",
        encoding::xml, tables());
    CHECK(find_issue(r, "Encounter.class"));
  }
}
