#include "covgate/store/memory_store.hpp"

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
