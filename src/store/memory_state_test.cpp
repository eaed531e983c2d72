#include "covgate/store/memory_state.hpp"

#include <doctest/doctest.h>

#include <array>
#include <string>
#include <vector>

#include "covgate/model/claim_codec.hpp"
#include "covgate/model/claim_key.hpp"
#include "support/gate_fixtures.hpp"

using namespace covgate;

TEST_SUITE("store.memory_state") {
  TEST_CASE("a saved record loads back whole and an unknown id loads nothing") {
    store::memory_state s;
    engine::claim_record r;
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
    store::memory_state s;
    for (const char* id : {"B", "A", "C"}) {
      engine::claim_record r;
      r.claim = test::pump_claim(id);
      s.save(r);
    }
    engine::claim_record again;
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
    store::memory_state s;
    engine::claim_record r;
    r.claim = test::pump_claim("M1");
    s.save(r);
    r.claim.subscriber.member_id = "OTHER";
    s.save(r);
    CHECK(s.claims_of(test::test_patient_key).empty());
    REQUIRE(s.claims_of("OTHER").size() == 1);
    CHECK(s.claims_of("OTHER")[0].id == "M1");
  }

  TEST_CASE("a patient's list keeps first-save order as claims leave it from front, middle, end") {
    store::memory_state s;
    const auto save = [&s](const char* id, const char* member) {
      engine::claim_record r;
      r.claim = test::pump_claim(id);
      r.claim.subscriber.member_id = member;
      s.save(r);
    };
    const auto ids = [&s](std::string_view member) {
      std::string out;
      for (const auto& c : s.claims_of(member)) out += c.id + " ";
      return out;
    };
    for (const char* id : {"A", "B", "C", "D"}) save(id, "P");
    save("B", "Q");  // from the middle
    CHECK(ids("P") == "A C D ");
    save("A", "Q");  // from the front
    CHECK(ids("P") == "C D ");
    save("D", "Q");  // from the end: the next claim must follow C, not the claim that left
    CHECK(ids("P") == "C ");
    save("E", "P");
    CHECK(ids("P") == "C E ");
    CHECK(ids("Q") == "B A D ");
    save("C", "Q");  // the only-but-one, then the last one left
    save("E", "Q");
    CHECK(ids("P").empty());
    save("B", "P");  // back to an emptied list
    CHECK(ids("P") == "B ");
    CHECK(ids("Q") == "A D C E ");
    CHECK(s.size() == 5);
  }

  TEST_CASE("every claim is found by its key as the table grows and as each is saved again") {
    // The table holds record indexes and hashes each by the key inside its bytes: growing it
    // rehashes by those keys, and a claim saved again gets new bytes under the same key.
    store::memory_state s;
    constexpr int claims = 5000;
    for (int i = 0; i < claims; ++i) {
      engine::claim_record r;
      const auto id = "K" + std::to_string(i);
      r.claim = test::pump_claim(id.c_str());
      r.source = "first";
      s.save(r);
    }
    for (int i = 0; i < claims; i += 3) {
      engine::claim_record r;
      const auto id = "K" + std::to_string(i);
      r.claim = test::pump_claim(id.c_str());
      r.source = std::string(100, 'x') + std::to_string(i);
      s.save(r);
    }
    CHECK(s.size() == claims);
    int found = 0;
    for (int i = 0; i < claims; ++i) {
      const auto back = s.load("K" + std::to_string(i));
      if (!back) continue;
      const auto expected = i % 3 == 0 ? std::string(100, 'x') + std::to_string(i) : "first";
      if (back->source == expected && back->claim.id == "K" + std::to_string(i)) ++found;
    }
    CHECK(found == claims);
    CHECK(s.claims_of(test::test_patient_key).size() == claims);
  }

  TEST_CASE("a claim's source loads back as saved, its input's name kept once for all") {
    store::memory_state s;
    const std::vector<std::string> sources = {
        "claims.x12:100",     "other.x12:5", "claims.x12:7", "no-offset", "",
        "mllp:10.0.0.1:4711", ":",           "claims.x12:",  "http:abc:"};
    for (std::size_t i = 0; i < sources.size(); ++i) {
      engine::claim_record r;
      const auto id = "S" + std::to_string(i);
      r.claim = test::pump_claim(id.c_str());
      r.source = sources[i];
      s.save(r);
    }
    for (std::size_t i = 0; i < sources.size(); ++i) {
      const auto back = s.load("S" + std::to_string(i));
      REQUIRE(back);
      CHECK(back->source == sources[i]);
    }
    engine::claim_record again;  // saved again from another input: the new source
    again.claim = test::pump_claim("S0");
    again.source = "late.ndjson:42";
    s.save(again);
    CHECK(s.load("S0")->source == "late.ndjson:42");
    CHECK(s.load("S2")->source == "claims.x12:7");
  }

  TEST_CASE("a host's messages on one channel keep one source head, not one per message") {
    // A host's claims come from "<channel>:<message number>:<offset>": the head is the
    // channel's, however many messages there are.
    store::memory_state s;
    for (int message = 1; message <= 500; ++message) {
      engine::claim_record r;
      const auto id = "H" + std::to_string(message);
      r.claim = test::pump_claim(id.c_str());
      r.source = "covgate:" + std::to_string(message) + ":" + std::to_string(message * 3);
      s.save(r);
    }
    CHECK(s.source_heads() == 1);
    CHECK(s.load("H250")->source == "covgate:250:750");
  }

  TEST_CASE("history is kept when asked for; interchanges and counters always") {
    store::memory_state quiet;
    quiet.record_history("A", {1, "hold", 5, {}, "x", ""});
    CHECK(quiet.history("A").empty());
    store::memory_state s(true);
    s.record_history("A", {1, "hold", 5, {}, "x", ""});
    s.record_history("A", {2, "release", 6, {}, "y", "why"});
    REQUIRE(s.history("A").size() == 2);
    CHECK(s.history("A")[1].note == "why");
    CHECK_FALSE(s.interchange("ZZ/S/1"));
    s.remember_interchange("ZZ/S/1", 1, {"answer", false, 2, 9});
    REQUIRE(s.interchange("ZZ/S/1"));
    CHECK(s.interchange("ZZ/S/1")->claims == 2);
    CHECK(s.counter("control", 1) == 1);
    s.set_counter("control", 7);
    CHECK(s.counter("control", 1) == 7);
  }

  TEST_CASE("open claims and released insulin pumps are found without walking every claim") {
    {
      store::memory_state s;
      auto save = [&](const char* id, model::outcome result, bool closed, bool csii) {
        engine::claim_record r;
        r.claim = test::pump_claim(id);
        r.decision.result = result;
        r.closed = closed;
        r.csii_released = csii;
        s.save(r);
      };
      save("A", model::outcome::hold_documentation, false, false);
      save("B", model::outcome::release, false, true);
      save("C", model::outcome::hold_review, false, false);
      save("D", model::outcome::hold_documentation, true, false);
      const auto held = s.open_claims_of(test::test_patient_key, false);
      REQUIRE(held.size() == 1);
      CHECK(held[0].id == "A");
      CHECK(s.open_claims_of(test::test_patient_key, true).size() == 2);
      CHECK(s.csii_released_other_than(test::test_patient_key, "A"));
      CHECK_FALSE(s.csii_released_other_than(test::test_patient_key, "B"));  // itself only
      CHECK_FALSE(s.csii_released_other_than("nobody", "A"));
    }
  }

  TEST_CASE(
      "thousands of claims and patients, short and long ids, all found after the tables grew") {
    // The tables' keys view the ids held in the records: growing the tables must not lose
    // them, whether an id lives inside its string (short) or on the heap (long).
    store::memory_state s;
    auto id_of = [](int i) {
      return (i % 2 ? "C" : "A-CLAIM-WITH-A-LONG-PATIENT-CONTROL-NUMBER-") + std::to_string(i);
    };
    auto patient_of = [](int i) {
      const int k = i % 97;
      return (k % 3 ? "P" : "A-LONG-MEMBER-IDENTIFIER-") + std::to_string(k);
    };
    for (int i = 0; i < 5000; ++i) {
      engine::claim_record r;
      r.claim = test::pump_claim(id_of(i).c_str());
      r.claim.subscriber.member_id = patient_of(i);
      r.csii_released = i % 5 == 0;
      r.events = static_cast<std::uint32_t>(i);
      s.save(r);
    }
    CHECK(s.size() == 5000);
    std::size_t listed = 0;
    for (int p = 0; p < 97; ++p) {
      for (const auto& c : s.claims_of(patient_of(p))) {
        ++listed;
        CHECK(c.csii_released ==
              (std::stoi(c.id.substr(c.id.find_last_not_of("0123456789") + 1)) % 5 == 0));
      }
    }
    CHECK(listed == 5000);
    for (int i = 0; i < 5000; i += 7) {
      const auto back = s.load(id_of(i));
      REQUIRE(back);
      CHECK(back->claim.id == id_of(i));
      CHECK(back->events == static_cast<std::uint32_t>(i));
    }
    // A released pump claim replaced under another member id takes its count along.
    engine::claim_record moved;
    moved.claim = test::pump_claim(id_of(0).c_str());
    moved.claim.subscriber.member_id = "NEW-MEMBER";
    moved.csii_released = true;
    s.save(moved);
    CHECK(s.csii_released_other_than("NEW-MEMBER", "someone else"));
    CHECK_FALSE(s.csii_released_other_than("NEW-MEMBER", id_of(0)));
    CHECK(s.claims_of(patient_of(0)).size() == 51);  // claims 0, 97, … 4947, less claim 0
  }

  TEST_CASE("claims of one set keep its envelope and billing provider once, and load them whole") {
    store::memory_state s;
    engine::claim_record r;
    for (const char* id : {"S1", "S2", "S3"}) {
      r.claim = test::pump_claim(id);
      r.claim.envelope.set_control = "0001";
      s.save(r);
    }
    CHECK(s.set_parts() == 1);
    r.claim = test::pump_claim("T1");
    r.claim.envelope.set_control = "0002";
    r.claim.billing.npi = "1999999999";
    s.save(r);
    CHECK(s.set_parts() == 2);
    // A replacement from another set keeps that set's part.
    r.claim = test::pump_claim("S2");
    r.claim.envelope.set_control = "0003";
    r.claim.frequency = '7';
    s.save(r);
    CHECK(s.set_parts() == 3);
    CHECK(s.size() == 4);  // the same claim, replaced
    const auto s1 = s.load(model::claim_key(test::pump_claim("S1")));
    const auto s2 = s.load(model::claim_key(r.claim));
    const auto t1 = s.load(model::claim_key("T1", "1999999999"));
    REQUIRE(s1);
    REQUIRE(s2);
    REQUIRE(t1);
    CHECK(s1->claim.envelope.set_control == "0001");
    CHECK(s1->claim.billing == test::pump_claim("S1").billing);
    CHECK(s2->claim == r.claim);
    CHECK(t1->claim.billing.npi == "1999999999");
  }

  TEST_CASE("a claim whose set differs from the one saved before it in one field keeps its own") {
    // The set part of the claim saved last is compared field by field before it is reused:
    // a change in any one field of the envelope or the billing provider makes a new part.
    store::memory_state s;
    engine::claim_record r;
    const std::vector<void (*)(model::claim&)> changes{
        [](model::claim& c) { c.envelope.sender_id = "OTHER"; },
        [](model::claim& c) { c.envelope.usage = 'T'; },
        [](model::claim& c) { c.envelope.submitter.last = "SOMEONE ELSE"; },
        [](model::claim& c) { c.billing.taxonomy = "999ZZ0000X"; },
        [](model::claim& c) { c.billing.name.first = "PAT"; },
    };
    int n = 0;
    for (const auto& change : changes) {
      r.claim = test::pump_claim(("C" + std::to_string(n++)).c_str());
      s.save(r);
      auto changed = test::pump_claim(("C" + std::to_string(n++)).c_str());
      change(changed);
      r.claim = changed;
      s.save(r);
      const auto back = s.load(changed.id);
      REQUIRE(back);
      CHECK(back->claim == changed);
    }
    CHECK(s.set_parts() == changes.size() + 1);  // the fixture's, and one per change
  }

  TEST_CASE("a claim encoded ahead (own_part) is kept as given and loads back whole") {
    store::memory_state s;
    CHECK(s.keeps_encoded_claims());
    const auto claim = test::pump_claim("A1");
    std::string own_part;
    model::encode_own_part(claim, own_part);
    model::decision decision;
    decision.claim_id = "A1";
    decision.result = model::outcome::release;
    s.save(
        engine::claim_record_view(claim, decision, "claims.x12:7", false, true, 1, {own_part, {}}));
    const auto back = s.load("A1");
    REQUIRE(back);
    CHECK(back->claim == claim);
    CHECK(back->source == "claims.x12:7");
    CHECK(back->events == 1);
    // The bytes given are what is kept: another claim's own part, given with this claim, is
    // what loads back (the caller vouches for them; the state does not encode again).
    auto other = claim;
    other.total_charge_cents += 100;
    std::string other_part;
    model::encode_own_part(other, other_part);
    REQUIRE(other_part != own_part);
    s.save(engine::claim_record_view(claim, decision, "claims.x12:7", false, true, 2,
                                     {other_part, {}}));
    const auto again = s.load("A1");
    REQUIRE(again);
    CHECK(again->claim == other);
  }
  TEST_CASE(
      "a set part encoded ahead is kept once, and claims saved unencoded after it keep theirs") {
    // The reader's thread encodes a set part once for the claims that share it; the state
    // compares those bytes with the part it kept last. A claim saved unencoded after them is
    // compared by its fields with the part kept last from fields, which an encoded claim in
    // between must not leave standing (it would give the third claim the second's provider).
    store::memory_state s;
    model::decision decision;
    decision.result = model::outcome::release;
    const auto first = test::pump_claim("E1");
    auto second = test::pump_claim("E2");
    second.billing.npi = "1234567893";
    second.billing.name.last = "OTHER SUPPLY";
    const auto third = test::pump_claim("E3");  // the first's set part again
    {
      // Into an empty state, an encoded claim first: no part kept last to compare with.
      store::memory_state fresh;
      std::string own;
      std::string set;
      model::encode_own_part(first, own);
      model::encode_set_part(first, set);
      fresh.save(engine::claim_record_view(first, decision, "a:1", false, false, 1, {own, set}));
      CHECK(fresh.set_parts() == 1);
      const auto back = fresh.load(model::claim_key(first));
      REQUIRE(back);
      CHECK(back->claim == first);
    }
    s.save(engine::claim_record_view(first, decision, "a:1", false, false, 1));
    std::string own_part;
    std::string set_part;
    model::encode_own_part(second, own_part);
    model::encode_set_part(second, set_part);
    s.save(
        engine::claim_record_view(second, decision, "a:2", false, false, 1, {own_part, set_part}));
    CHECK(s.set_parts() == 2);
    // The same bytes again (another view of them): no new part.
    const std::string same_set_part = set_part;
    s.save(engine::claim_record_view(second, decision, "a:2", false, false, 2,
                                     {own_part, same_set_part}));
    CHECK(s.set_parts() == 2);
    s.save(engine::claim_record_view(third, decision, "a:3", false, false, 1));
    CHECK(s.set_parts() == 2);  // the first's, found again
    const std::array<const model::claim*, 3> saved{&first, &second, &third};
    for (const auto* c : saved) {
      const auto back = s.load(model::claim_key(*c));
      REQUIRE(back);
      CHECK(back->claim == *c);
    }
  }
}
