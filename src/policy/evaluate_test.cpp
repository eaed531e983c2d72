#include <doctest/doctest.h>

#include "support/gate_fixtures.hpp"

#include <algorithm>

#include "covgate/policy/policy.hpp"

using namespace covgate;
using model::outcome;

namespace {

const mapping::tables& tables() { return test::shipped_tables(); }
const policy::policy_file& ncd223() { return test::shipped_ncd223(); }
using test::at;

// A fully documented CSII patient for a pump delivered on 2026-04-01 (current version).
struct scenario {
  model::claim claim;
  std::vector<model::fact> facts;
  bool earlier_release = false;

  scenario() : claim(test::pump_claim()), facts(test::documentation()) {}

  static model::lab_result lab(const char* id, mapping::lab_kind kind, double value,
                               const char* unit, const char* when,
                               std::optional<double> low = std::nullopt) {
    return test::lab(id, kind, value, unit, when, low);
  }

  void evidence(const char* code, bool flag) { facts.emplace_back(test::evidence(code, flag)); }
  void evidence(const char* code, double number) {
    facts.emplace_back(test::evidence(code, number));
  }

  template <class T>
  T* find(const std::string& id) {
    for (auto& f : facts) {
      if (auto* v = std::get_if<T>(&f); v && v->resource_id == id) return v;
    }
    return nullptr;
  }

  void remove(const std::string& id) {
    facts.erase(std::remove_if(facts.begin(), facts.end(),
                               [&](const auto& f) { return model::resource_id_of(f) == id; }),
                facts.end());
  }

  model::decision run() const {
    policy::patient_context context;
    for (const auto& f : facts) context.facts.push_back(&f);
    context.earlier_csii_release = earlier_release;
    return policy::evaluate(claim, context, ncd223(), tables());
  }

  std::vector<std::string> reasons() const {
    std::vector<std::string> out;
    for (const auto& f : run().findings) out.emplace_back(f.code());
    return out;
  }
};

bool has(const std::vector<std::string>& reasons, const char* code) {
  return std::find(reasons.begin(), reasons.end(), code) != reasons.end();
}

}  // namespace

TEST_SUITE("policy.file") {
  TEST_CASE("versions are chosen by date of service") {
    CHECK(ncd223().for_dos({2026, 3, 7}).label == "2026-03-07");
    CHECK(ncd223().for_dos({2026, 3, 6}).label == "pre-2026-03-07");
    CHECK(ncd223().for_dos({2026, 3, 6}).values.rereview_months == 24);
    CHECK_FALSE(ncd223().for_dos({2026, 3, 6}).values.prior_auth_initial);
    CHECK(ncd223().for_dos({2026, 3, 7}).values.c_peptide_ratio_max == doctest::Approx(1.10));
  }

  TEST_CASE("a missing parameter is named with its path") {
    try {
      (void)policy::policy_file::parse(
          R"({"id":"X","versions":[{"label":"a","effective_from":"2026-01-01","parameters":{}}]})");
      FAIL("no error");
    } catch (const mapping::config_error& e) {
      CHECK(std::string(e.what()) ==
            "ncd223.json: /versions/0/parameters/modifiers_required_from: is required");
    }
  }

  TEST_CASE("every reason code has an outcome, an STC and a message") {
    for (const auto& r : model::reasons()) {
      CAPTURE(r.code);
      CHECK_FALSE(r.category.empty());
      CHECK_FALSE(r.status.empty());
      CHECK_FALSE(r.message.empty());
      if (r.result == outcome::hold_documentation) CHECK(r.category == "P3");
      if (r.result == outcome::hold_invalid) CHECK(r.category == "A6");
    }
    CHECK(model::reasons().size() == 36);
    CHECK_FALSE(model::reason_named("no.such.reason"));
    CHECK(model::reason_named("csii.insulinopenia.missing") ==
          model::reason::csii_insulinopenia_missing);
  }
}

TEST_SUITE("policy.csii") {
  TEST_CASE("a fully documented insulin pump is released with no reasons") {
    const scenario s;
    const auto d = s.run();
    CHECK(d.result == outcome::release);
    CHECK(d.findings.empty());
    CHECK(d.policy == "NCD223@2026-03-07");
    CHECK(d.dos == model::date{2026, 4, 1});
  }

  TEST_CASE("modifiers: missing, expected denial, and before 2023 not required") {
    scenario s;
    s.claim.lines[0].modifiers = {"NU"};
    CHECK(s.run().result == outcome::hold_invalid);
    CHECK(has(s.reasons(), "modifier.missing"));
    CHECK(s.run().findings.front().extra_status() == "453");
    // A modifier is the whole value: one that only starts or ends like KX is not KX.
    for (const auto& near :
         {std::vector<std::string>{"KXX"}, {"K"}, {"XKX"}, {"kx"}, {"K", "X"}, {""}}) {
      s.claim.lines[0].modifiers = near;
      CHECK(has(s.reasons(), "modifier.missing"));
    }
    s.claim.lines[0].modifiers = {"NU", "KX"};
    CHECK_FALSE(has(s.reasons(), "modifier.missing"));
    s.claim.lines[0].modifiers = {"GA"};
    s.remove("Observation/cpep");
    const auto d = s.run();
    CHECK(d.result == outcome::release);
    REQUIRE(d.findings.size() == 1);
    CHECK(d.findings[0].code() == "modifier.expected-denial");
  }

  TEST_CASE("setting: inpatient or nursing facility is not covered, office needs review") {
    scenario s;
    s.claim.place_of_service = "31";
    CHECK(s.run().result == outcome::hold_not_covered);
    s.claim.place_of_service = "32";
    CHECK(has(s.reasons(), "csii.setting.not-home"));
    s.claim.place_of_service = "11";
    CHECK(s.run().result == outcome::hold_review);
    CHECK(has(s.reasons(), "csii.setting.unknown"));
    s.claim.lines[0].place_of_service = "12";  // the line's own POS overrides
    CHECK(s.run().result == outcome::release);
  }

  TEST_CASE("C-peptide at exactly 110 % of LLN qualifies, just above does not") {
    scenario s;
    s.find<model::lab_result>("Observation/cpep")->value = 0.88;  // 1.10 × 0.8
    CHECK(s.run().result == outcome::release);
    s.find<model::lab_result>("Observation/cpep")->value = 0.881;
    CHECK(has(s.reasons(), "csii.c-peptide.renal-unproven"));
    s.find<model::lab_result>("Observation/cpep")->value = 1.7;  // 212 %
    CHECK(has(s.reasons(), "csii.c-peptide.above-threshold"));
  }

  TEST_CASE("the boundary holds for nmol/L inputs converted to ng/mL") {
    scenario s;
    // 0.2914 nmol/L and an LLN of 0.2649 nmol/L (× 3.02 both): ratio 1.1000.
    auto* c = s.find<model::lab_result>("Observation/cpep");
    c->value = 0.2914 * 3.02;
    c->low = 0.26491 * 3.02;
    CHECK(s.run().result == outcome::release);
    c->value = 0.2916 * 3.02;
    CHECK(has(s.reasons(), "csii.c-peptide.renal-unproven"));
  }

  TEST_CASE(
      "between 110 % and 200 %: clearance at 50 qualifies, 51 does not, eGFR alone is review") {
    scenario s;
    s.find<model::lab_result>("Observation/cpep")->value = 1.6;  // 200 %
    s.facts.emplace_back(scenario::lab("Observation/crcl", mapping::lab_kind::creatinine_clearance,
                                       50, "mL/min", "2026-01-05"));
    CHECK(s.run().result == outcome::release);
    s.find<model::lab_result>("Observation/crcl")->value = 51;
    CHECK(has(s.reasons(), "csii.c-peptide.above-threshold"));
    s.remove("Observation/crcl");
    s.facts.emplace_back(scenario::lab("Observation/egfr", mapping::lab_kind::egfr, 40,
                                       "mL/min/{1.73_m2}", "2026-02-01"));
    CHECK(has(s.reasons(), "csii.c-peptide.egfr-only"));
    CHECK(s.run().result == outcome::hold_review);
  }

  TEST_CASE("a Cockcroft-Gault clearance from creatinine, weight and demographics counts") {
    scenario s;
    s.find<model::lab_result>("Observation/cpep")->value = 1.4;
    model::patient p;
    p.resource_id = "Patient/p";
    p.key = "1EG4TE5MK73";
    p.sex = 'F';
    p.birth_date = {1946, 1, 1};
    s.facts.emplace_back(p);
    s.facts.emplace_back(scenario::lab("Observation/cr", mapping::lab_kind::serum_creatinine, 1.6,
                                       "mg/dL", "2026-02-10"));
    s.facts.emplace_back(
        scenario::lab("Observation/wt", mapping::lab_kind::body_weight, 60, "kg", "2026-02-12"));
    // (140 − 80) × 60 / (72 × 1.6) × 0.85 = 26.6 mL/min
    const auto d = s.run();
    CHECK(d.result == outcome::release);
  }

  TEST_CASE("fasting glucose at 225 passes, 226 is too high, none is missing") {
    scenario s;
    s.find<model::lab_result>("Observation/glu")->value = 225;
    CHECK(s.run().result == outcome::release);
    s.find<model::lab_result>("Observation/glu")->value = 226;
    CHECK(has(s.reasons(), "csii.c-peptide.glucose-too-high"));
    s.find<model::lab_result>("Observation/glu")->effective = at("2026-03-02T08:01:00Z");
    CHECK(has(s.reasons(), "csii.c-peptide.glucose-missing"));
  }

  TEST_CASE("a non-fasting C-peptide, a missing range, an unknown unit") {
    scenario s;
    auto* c = s.find<model::lab_result>("Observation/cpep");
    c->kind = mapping::lab_kind::c_peptide;
    c->fasting = model::fasting_state::unknown;
    s.remove("Observation/glu");
    CHECK(has(s.reasons(), "csii.c-peptide.not-fasting"));
    s.facts.emplace_back(scenario::lab("Observation/glu", mapping::lab_kind::fasting_glucose, 100,
                                       "mg/dL", "2026-03-01T09:00:00Z"));
    c = s.find<model::lab_result>("Observation/cpep");
    CHECK(s.run().result == outcome::release);  // fasting shown by the concurrent glucose
    c->low.reset();
    CHECK(has(s.reasons(), "csii.c-peptide.no-reference-range"));
    c->unit_known = false;
    CHECK(has(s.reasons(), "lab.unit-unknown"));
  }

  TEST_CASE("no C-peptide: a positive autoantibody shows insulinopenia, else it is missing") {
    scenario s;
    s.remove("Observation/cpep");
    CHECK(has(s.reasons(), "csii.insulinopenia.missing"));
    auto ab = scenario::lab("Observation/gad", mapping::lab_kind::gad65_antibody, 0.05, "nmol/L",
                            "2025-06-01");
    ab.high = 0.02;
    s.facts.emplace_back(ab);
    CHECK(s.run().result == outcome::release);
  }

  TEST_CASE("facts dated after the date of service never count") {
    scenario s;
    s.find<model::lab_result>("Observation/cpep")->effective = at("2026-04-02T08:00:00Z");
    CHECK(has(s.reasons(), "csii.insulinopenia.missing"));
  }

  TEST_CASE("criterion A items are each reported, with B missing; B alone suffices") {
    scenario s;
    s.remove("Observation/diabetes-education-completed");
    s.remove("Observation/smbg-per-day");
    const auto r = s.reasons();
    CHECK(has(r, "csii.criterion-a.education"));
    CHECK(has(r, "csii.criterion-a.smbg"));
    CHECK_FALSE(has(r, "csii.criterion-a.mdi"));
    CHECK(has(r, "csii.criterion-b.missing"));
    s.evidence("pump-before-medicare", true);
    CHECK(has(s.reasons(), "csii.criterion-b.smbg"));
    s.evidence("smbg-per-day-before-enrollment", 4.0);
    CHECK(s.run().result == outcome::release);
  }

  TEST_CASE("HbA1c 7.0 is not a marker, 7.1 is; dawn phenomenon by three high fasting glucoses") {
    scenario s;
    s.find<model::lab_result>("Observation/a1c")->value = 7.0;
    CHECK(has(s.reasons(), "csii.criterion-a.marker"));
    s.find<model::lab_result>("Observation/a1c")->value = 7.1;
    CHECK(s.run().result == outcome::release);
    s.remove("Observation/a1c");
    for (const char* day : {"2026-01-01", "2026-02-01", "2026-03-20"}) {
      s.facts.emplace_back(scenario::lab((std::string("Observation/fg") + day).c_str(),
                                         mapping::lab_kind::fasting_glucose, 240, "mg/dL", day));
    }
    CHECK(s.run().result == outcome::release);
  }

  TEST_CASE("recurring hypoglycemia on the claim is a marker") {
    scenario s;
    s.remove("Observation/a1c");
    CHECK(has(s.reasons(), "csii.criterion-a.marker"));
    s.claim.diagnoses.push_back({"ABF", "E11649"});
    CHECK(s.run().result == outcome::release);
  }

  TEST_CASE("follow-up at 90 days counts, 91 does not; a nurse practitioner does not count") {
    scenario s;
    s.find<model::encounter>("Encounter/v1")->start = at("2026-01-01");  // 90 days before
    CHECK(s.run().result == outcome::release);
    s.find<model::encounter>("Encounter/v1")->start = at("2025-12-31");  // 91
    CHECK(has(s.reasons(), "csii.followup.missing"));
    s.find<model::encounter>("Encounter/v1")->start = at("2026-03-15");
    s.find<model::encounter>("Encounter/v1")->participants[0].type =
        mapping::provider_type::nurse_practitioner;
    const auto d = s.run();
    CHECK(has(s.reasons(), "csii.followup.not-physician"));
    const auto it = std::find_if(d.findings.begin(), d.findings.end(), [](const auto& f) {
      return f.code() == "csii.followup.not-physician";
    });
    CHECK(it->extra_status() == "147");
  }

  TEST_CASE("prior authorization: initial needs one, subsequent does not, pre-2026 never") {
    scenario s;
    s.claim.prior_authorization.clear();
    CHECK(has(s.reasons(), "csii.prior-auth.missing"));
    s.earlier_release = true;
    CHECK_FALSE(has(s.reasons(), "csii.prior-auth.missing"));
    s.claim.lines[0].modifiers.push_back("KH");
    CHECK(has(s.reasons(), "csii.prior-auth.missing"));
    s.claim.lines[0].service_dates = {{2026, 3, 6}, {2026, 3, 6}};
    CHECK_FALSE(has(s.reasons(), "csii.prior-auth.missing"));
  }

  TEST_CASE("re-review: newest record 12 months back is on time, older is overdue") {
    scenario s;
    s.claim.lines[0].service_dates = {{2027, 3, 1}, {2027, 3, 1}};
    s.claim.lines[0].modifiers = {"KX", "KJ"};
    s.find<model::encounter>("Encounter/v1")->start = at("2027-01-15");
    s.remove("Observation/a1c");
    s.evidence("dawn-phenomenon", true);
    for (auto& f : s.facts) {
      if (auto* e = std::get_if<model::evidence>(&f)) e->effective = at("2026-03-01");
    }
    CHECK_FALSE(has(s.reasons(), "rereview.overdue"));
    s.remove("Encounter/v1");
    // Newest record now 2026-03-01: exactly 12 months before the DOS is still on time…
    CHECK_FALSE(has(s.reasons(), "rereview.overdue"));
    // …and one day older is overdue.
    for (auto& f : s.facts) {
      if (auto* e = std::get_if<model::evidence>(&f)) e->effective = at("2026-02-28");
      if (auto* l = std::get_if<model::lab_result>(&f)) l->effective = at("2026-02-28T08:00:00Z");
    }
    CHECK(has(s.reasons(), "rereview.overdue"));
  }
}

TEST_SUITE("policy.external_and_implantable") {
  model::claim external_claim(const char* drug, const char* dx, const char* pos) {
    model::claim c;
    c.id = "EXT1";
    c.place_of_service = pos;
    c.subscriber.member_id = "1EG4TE5MK73";
    c.diagnoses = {{"ABK", dx}};
    model::service_line pump;
    pump.number = 1;
    pump.procedure_code = "E0781";
    pump.modifiers = {"KX"};
    pump.service_dates = {{2026, 4, 1}, {2026, 4, 1}};
    c.lines.push_back(pump);
    if (drug[0]) {
      auto d = pump;
      d.number = 2;
      d.procedure_code = drug;
      d.modifiers = {};
      c.lines.push_back(d);
    }
    return c;
  }

  std::vector<std::string> evaluate(const model::claim& c, std::vector<model::fact> facts = {}) {
    model::encounter recent;
    recent.resource_id = "Encounter/r";
    recent.start = at("2026-03-01");
    facts.emplace_back(recent);
    policy::patient_context context;
    for (const auto& f : facts) context.facts.push_back(&f);
    std::vector<std::string> out;
    for (const auto& f : policy::evaluate(c, context, ncd223(), tables()).findings) {
      out.emplace_back(f.code());
    }
    return out;
  }

  model::evidence flag(const char* code) {
    model::evidence e;
    e.resource_id = std::string("Observation/") + code;
    e.code = code;
    e.value_type = "boolean";
    e.flag = true;
    e.effective = at("2026-01-01");
    return e;
  }

  TEST_CASE("iron is covered in any setting") {
    CHECK(evaluate(external_claim("J0895", "E8311", "12")).empty());
  }

  TEST_CASE("heparin: institution covered, home not covered, outpatient reviewed") {
    CHECK(evaluate(external_claim("J1644", "I2699", "21")).empty());
    CHECK(evaluate(external_claim("J1644", "I2699", "12")) ==
          std::vector<std::string>{"external.heparin.home"});
    CHECK(evaluate(external_claim("J1644", "I2699", "22")) ==
          std::vector<std::string>{"external.heparin.setting-unclear"});
  }

  TEST_CASE("liver chemotherapy needs resectability evidence; other cancers are reviewed") {
    CHECK(evaluate(external_claim("J9190", "C220", "12")) ==
          std::vector<std::string>{"external.chemo.resectability-missing"});
    CHECK(evaluate(external_claim("J9190", "C220", "12"), {flag("surgery-refused")}).empty());
    CHECK(evaluate(external_claim("J9190", "C509", "12")) ==
          std::vector<std::string>{"external.chemo.diagnosis-unlisted"});
  }

  TEST_CASE("morphine needs cancer pain with a malignancy, or the evidence") {
    CHECK(evaluate(external_claim("J2270", "G8929", "12")) ==
          std::vector<std::string>{"external.morphine.cancer-pain-missing"});
    auto c = external_claim("J2270", "G893", "12");
    c.diagnoses.push_back({"ABF", "C250"});
    CHECK(evaluate(c).empty());
    CHECK(evaluate(external_claim("J2270", "G8929", "12"), {flag("intractable-cancer-pain")})
              .empty());
  }

  TEST_CASE("vancomycin is excluded; an unlisted drug or K0455 goes to review") {
    CHECK(evaluate(external_claim("J3370", "A419", "12")) ==
          std::vector<std::string>{"external.excluded-drug"});
    CHECK(evaluate(external_claim("", "I509", "12")) ==
          std::vector<std::string>{"external.indication-unlisted"});
    auto k = external_claim("J1644", "I2699", "21");
    k.lines[0].procedure_code = "K0455";
    CHECK(evaluate(k) == std::vector<std::string>{"external.indication-unlisted"});
  }

  TEST_CASE("implantable: heparin or insulin excluded, documented spasticity released") {
    auto c = external_claim("J1644", "I2699", "21");
    c.lines[0].procedure_code = "E0783";
    CHECK(evaluate(c) == std::vector<std::string>{"implantable.excluded"});
    auto s = external_claim("J0475", "G8000", "22");
    s.lines[0].procedure_code = "E0783";
    s.lines[0].modifiers = {};
    CHECK(evaluate(s) == std::vector<std::string>{"implantable.review"});
    CHECK(evaluate(
              s, {flag("oral-antispasmodic-trial-failed"), flag("intrathecal-test-dose-response")})
              .empty());
  }

  TEST_CASE("structural: no member id, no diagnosis, no date; out of scope is released") {
    auto c = external_claim("J0895", "E8311", "12");
    c.subscriber.member_id.clear();
    c.diagnoses.clear();
    c.lines[0].service_dates = {};
    const auto r = evaluate(c);
    CHECK(std::find(r.begin(), r.end(), "claim.member-id-missing") != r.end());
    CHECK(std::find(r.begin(), r.end(), "claim.diagnosis-missing") != r.end());
    CHECK(std::find(r.begin(), r.end(), "claim.service-date-missing") != r.end());
    auto office = external_claim("", "Z0000", "11");
    office.lines[0].procedure_code = "99213";
    CHECK(evaluate(office) == std::vector<std::string>{"scope.not-infusion-pump"});
  }
}

TEST_SUITE("policy.overlay") {
  TEST_CASE("the shipped LCD overlay covers inotropes for heart failure for its payers only") {
    auto policy = policy::policy_file::parse(policy::embedded_ncd223());
    REQUIRE_FALSE(policy::embedded_overlays().empty());
    for (const auto& [name, text] : policy::embedded_overlays()) {
      policy.add_overlay(policy::overlay::parse(text, name));
    }
    model::claim c;
    c.id = "INO1";
    c.place_of_service = "12";
    c.payer_id = "16013";
    c.subscriber.member_id = "1EG4TE5MK73";
    c.diagnoses = {{"ABK", "I509"}};
    model::service_line pump;
    pump.number = 1;
    pump.procedure_code = "E0781";
    pump.modifiers = {"KX"};
    pump.service_dates = {{2026, 4, 1}, {2026, 4, 1}};
    auto drug = pump;
    drug.number = 2;
    drug.procedure_code = "J2260";
    drug.modifiers = {};
    c.lines = {pump, drug};
    model::encounter recent;
    recent.resource_id = "Encounter/r";
    recent.start = at("2026-03-01");
    const model::fact f = recent;
    policy::patient_context context;
    context.facts = {&f};
    const auto covered = policy::evaluate(c, context, policy, tables());
    CHECK(covered.result == outcome::release);
    CHECK(covered.policy == "NCD223@2026-03-07+LCD-L33794");
    c.payer_id = "99999";
    const auto national = policy::evaluate(c, context, policy, tables());
    CHECK(national.result == outcome::hold_review);
    CHECK(national.findings.front().code() == "external.indication-unlisted");
    CHECK(national.policy == "NCD223@2026-03-07");
  }

  TEST_CASE("an overlay file with a wrong pump class is refused with its path") {
    try {
      (void)policy::overlay::parse(
          R"({"id":"X","payers":[],"drugs":{},"covered":[{"indication":"a","pump_class":"oral","diagnoses":[]}]})",
          "x.json");
      FAIL("no error");
    } catch (const mapping::config_error& e) {
      CHECK(std::string(e.what()) ==
            "x.json: /covered/0/pump_class: must be external or implantable");
    }
  }
}
