#include "covgate/store/memory_store.hpp"
#include "covgate/store/record_codec.hpp"

#include <doctest/doctest.h>

#include "support/gate_fixtures.hpp"

using namespace covgate;

TEST_SUITE("store.memory_store") {
  TEST_CASE("a saved record loads back whole and an unknown id loads nothing") {
    store::memory_store s;
    store::claim_record r;
    r.claim = test::pump_claim("A1");
    r.decision.claim_id = "A1";
    r.decision.result = model::outcome::hold_documentation;
    r.source = "claims.x12:100";
    r.csii_released = true;
    r.events = 3;
    s.save(r);
    const auto back = s.load("A1");
    REQUIRE(back);
    CHECK(back->claim == r.claim);
    CHECK(back->decision.result == model::outcome::hold_documentation);
    CHECK(back->source == "claims.x12:100");
    CHECK(back->csii_released);
    CHECK(back->events == 3);
    CHECK_FALSE(s.load("A2"));
    CHECK(s.size() == 1);
  }

  TEST_CASE("claims_of lists a patient's claims in first-save order, with their outcome") {
    store::memory_store s;
    for (const char* id : {"B", "A", "C"}) {
      store::claim_record r;
      r.claim = test::pump_claim(id);
      s.save(r);
    }
    store::claim_record again;
    again.claim = test::pump_claim("B");
    again.decision.result = model::outcome::hold_review;
    again.closed = true;
    s.save(again);  // saving again keeps the position
    const auto list = s.claims_of(test::test_patient_key);
    REQUIRE(list.size() == 3);
    CHECK(list[0].id == "B");
    CHECK(list[0].result == model::outcome::hold_review);
    CHECK(list[0].closed);
    CHECK(list[1].id == "A");
    CHECK(list[2].id == "C");
    CHECK(s.claims_of("nobody").empty());
  }

  TEST_CASE("a replacement that names another member id moves the claim to that patient") {
    store::memory_store s;
    store::claim_record r;
    r.claim = test::pump_claim("M1");
    s.save(r);
    r.claim.subscriber.member_id = "OTHER";
    s.save(r);
    CHECK(s.claims_of(test::test_patient_key).empty());
    REQUIRE(s.claims_of("OTHER").size() == 1);
    CHECK(s.claims_of("OTHER")[0].id == "M1");
  }
}

TEST_SUITE("store.record_codec") {
  TEST_CASE("a decision with findings round-trips, its texts coming back from the reason table") {
    model::decision d;
    d.claim_id = "C1";
    d.patient = "1EG4TE5MK73";
    d.dos = {2026, 4, 1};
    d.policy = "NCD223@2026-03-07+LCD-L33794";
    d.result = model::outcome::hold_documentation;
    const auto& r = policy::reason("csii.c-peptide.not-fasting");
    auto f = policy::finding_of(r, 2);
    f.detail = "Missing: x";
    f.facts_used = {"Observation/cpep", "Observation/glu"};
    d.findings = {f, f};
    std::string bytes;
    store::encode(d, bytes);
    const auto back = store::decode_decision(bytes);
    REQUIRE(back);
    CHECK(back->claim_id == "C1");
    CHECK(back->dos == d.dos);
    CHECK(back->policy == d.policy);
    CHECK(back->result == d.result);
    REQUIRE(back->findings.size() == 2);
    CHECK(back->findings[1].reason == "csii.c-peptide.not-fasting");
    CHECK(back->findings[1].message == r.message);
    CHECK(back->findings[1].line == 2);
    CHECK(back->findings[1].detail == "Missing: x");
    CHECK(back->findings[1].facts_used == f.facts_used);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(store::decode_decision(std::string_view(bytes).substr(0, n)));
    }
  }
}
