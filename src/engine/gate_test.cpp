#include "covgate/engine/gate.hpp"

#include <doctest/doctest.h>

#include "covgate/model/claim_key.hpp"
#include "covgate/store/memory_state.hpp"
#include "support/gate_fixtures.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <thread>

using namespace covgate;
using model::outcome;

namespace {

const mapping::tables& tables() { return test::shipped_tables(); }
const policy::policy_file& ncd223() { return test::shipped_ncd223(); }
using test::at;
using test::evidence;
using test::lab;

using test::documentation;
using test::pump_claim;

struct recorder {
  std::vector<engine::event> events;
  store::memory_state claims;
  engine::gate gate{ncd223(), tables(), claims,
                    [this](const engine::event& e) { events.push_back(e); }};
  std::vector<std::string> kinds() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.emplace_back(engine::name(e.kind));
    return out;
  }
};

}  // namespace

TEST_SUITE("engine.event") {
  TEST_CASE("an event borrows its claim; a copy owns one that outlives the original") {
    auto claim = std::make_unique<model::claim>(pump_claim("E1"));
    engine::event borrowed(engine::event_kind::hold, *claim, {}, "src", 1);
    CHECK(&borrowed.claim() == claim.get());
    engine::event moved(std::move(borrowed));
    CHECK(&moved.claim() == claim.get());  // moving a borrowing event borrows the same claim
    engine::event copy(moved);
    CHECK(&copy.claim() != claim.get());  // a copy owns its own
    engine::event assigned(engine::event_kind::release, *claim, {}, "other", 2);
    assigned = copy;
    CHECK(&assigned.claim() != claim.get());
    claim.reset();  // the claim the events were reported with is gone
    CHECK(copy.claim().id == "E1");
    CHECK(copy.trace() == "E1-1");
    CHECK(assigned.claim().id == "E1");
    CHECK(assigned.source == "src");
    // A moved owning event keeps its claim where it was: views of it stay valid.
    const auto* where = &copy.claim();
    std::vector<engine::event> kept;
    kept.push_back(std::move(copy));
    for (int i = 0; i < 64; ++i) kept.push_back(kept.front());  // the vector grows, moving them
    CHECK(&kept.front().claim() == where);
    CHECK(kept.back().claim().id == "E1");
  }

  TEST_CASE("a message's first answers come to one disposition: hold, then release, then close") {
    const auto claim = pump_claim("D1");
    const auto of = [&](engine::event_kind k, model::outcome was = model::outcome::hold_review) {
      model::decision d;
      d.result = was;
      return engine::disposition_of(engine::event(k, claim, d, "src", 1));
    };
    using engine::disposition;
    CHECK(of(engine::event_kind::hold) == disposition::hold);
    CHECK(of(engine::event_kind::reopened) == disposition::hold);
    CHECK(of(engine::event_kind::release) == disposition::release);
    CHECK(of(engine::event_kind::void_claim) == disposition::closed);
    CHECK(of(engine::event_kind::cancel) == disposition::closed);
    CHECK(of(engine::event_kind::repeat, model::outcome::release) == disposition::release);
    CHECK(of(engine::event_kind::repeat, model::outcome::hold_documentation) == disposition::hold);
    CHECK(engine::combined(disposition::release, disposition::hold) == disposition::hold);
    CHECK(engine::combined(disposition::closed, disposition::release) == disposition::release);
    CHECK(engine::combined(disposition::accepted, disposition::closed) == disposition::closed);
    CHECK(engine::combined(disposition::accepted, disposition::accepted) == disposition::accepted);
    for (const auto d :
         {disposition::accepted, disposition::hold, disposition::release, disposition::closed}) {
      CHECK(engine::disposition_named(engine::name(d)) == d);
    }
    CHECK_FALSE(engine::disposition_named("held").has_value());
    CHECK_FALSE(engine::disposition_named("").has_value());
  }
}

TEST_SUITE("engine.gate") {
  TEST_CASE("a claim held for documentation is released when its last fact arrives") {
    recorder r;
    r.gate.on_claim(pump_claim(), "claims.x12:0");
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0].kind == engine::event_kind::hold);
    CHECK(r.events[0].decision.result == outcome::hold_documentation);
    auto facts = documentation();
    const auto last = facts.back();
    facts.pop_back();
    for (const auto& f : facts) r.gate.on_facts({f}, "labs.json");
    CHECK(r.events.size() == 1);  // still held: no outcome change, no event
    r.gate.on_facts({last}, "visit.json");
    REQUIRE(r.events.size() == 2);
    CHECK(r.events[1].kind == engine::event_kind::release);
    CHECK(r.events[1].source == "visit.json");
    CHECK(r.gate.find("PUMP001")->decision.result == outcome::release);
    // Events are numbered per claim; CLM01-sequence is each answer's key (a release's 277
    // carries it in REF*1K).
    CHECK(r.events[0].sequence == 1);
    CHECK(r.events[0].trace() == "PUMP001-1");
    CHECK(r.events[1].sequence == 2);
    CHECK(r.events[1].trace() == "PUMP001-2");
  }

  TEST_CASE("the same claim twice is answered again, not processed twice") {
    recorder r;
    r.gate.on_claim(pump_claim(), "a");
    r.gate.on_claim(pump_claim(), "b");
    CHECK(r.kinds() == std::vector<std::string>{"hold", "repeat"});
    CHECK(r.events[1].sequence == r.events[0].sequence);  // the answer it repeats
    CHECK(r.gate.summary().duplicates == 1);
    CHECK(r.gate.summary().by_outcome[static_cast<std::size_t>(outcome::hold_documentation)] == 1);
  }

  TEST_CASE("a replacement supersedes the held original; a void closes it") {
    recorder r;
    r.gate.on_claim(pump_claim(), "a");
    auto replacement = pump_claim("PUMP001", '7');
    replacement.lines[0].modifiers = {"GA"};
    r.gate.on_claim(replacement, "b");
    CHECK(r.kinds() == std::vector<std::string>{"hold", "release"});
    r.gate.on_claim(pump_claim("PUMP001", '8'), "c");
    CHECK(r.kinds().back() == "void");
    // regression: the void's decision named an empty claim (read after the claim was moved)
    CHECK(r.events.back().decision.claim_id == "PUMP001");
    CHECK(r.events.back().decision.patient == test::test_patient_key);
    CHECK(r.events.back().trace() == "PUMP001-3");
    CHECK(r.gate.find("PUMP001")->closed);
    CHECK(r.gate.summary().by_outcome == decltype(r.gate.summary().by_outcome){});
    for (const auto& f : documentation()) r.gate.on_facts({f}, "late");
    CHECK(r.events.size() == 3);  // a closed claim has no further events
  }

  TEST_CASE("two billing providers' claims of one CLM01 are two claims, each replaced or voided") {
    // regression: claims were keyed by CLM01 alone, so a second provider's claim "PUMP001" was
    // answered as a repeat of the first's, and its void closed the first provider's claim.
    recorder r;
    auto first = pump_claim("PUMP001");
    first.billing.npi = "1111111112";
    auto second = first;
    second.billing.npi = "2222222223";
    second.lines[0].modifiers = {"GA"};  // released where the first is held
    r.gate.on_claim(first, "a");
    r.gate.on_claim(second, "b");
    CHECK(r.kinds() == std::vector<std::string>{"hold", "release"});
    CHECK(r.gate.summary().duplicates == 0);
    CHECK(r.events[1].sequence == 1);  // its own first answer
    CHECK(r.events[0].delivery_key() == "1111111112_PUMP001-1");
    CHECK(r.events[1].delivery_key() == "2222222223_PUMP001-1");
    CHECK(r.events[1].trace() == "PUMP001-1");  // the 277's REF*1K names CLM01 only
    const auto first_key = model::claim_key("PUMP001", "1111111112");
    const auto second_key = model::claim_key("PUMP001", "2222222223");
    CHECK(r.gate.find(first_key)->decision.result == outcome::hold_documentation);
    CHECK(r.gate.find(second_key)->decision.result == outcome::release);
    CHECK_FALSE(r.gate.find("PUMP001"));
    // The second provider voids its claim: the first provider's stays held, and is released
    // by its evidence.
    auto void_second = second;
    void_second.frequency = '8';
    r.gate.on_claim(void_second, "c");
    CHECK(r.kinds().back() == "void");
    CHECK(r.gate.find(second_key)->closed);
    CHECK_FALSE(r.gate.find(first_key)->closed);
    for (const auto& f : documentation()) r.gate.on_facts({f}, "late");
    CHECK(r.kinds().back() == "release");
    CHECK(r.events.back().delivery_key() == "1111111112_PUMP001-2");
    // The first provider's replacement replaces its own claim only.
    auto replacement = first;
    replacement.frequency = '7';
    r.gate.on_claim(replacement, "d");
    CHECK(r.gate.summary().replacements == 1);
    CHECK(r.events.back().delivery_key() == "1111111112_PUMP001-3");
    CHECK(r.gate.find(second_key)->closed);
    CHECK(r.claims.size() == 2);
  }

  TEST_CASE("a reviewer releases or cancels a review hold; documentation holds are not theirs") {
    recorder r;
    auto implantable = pump_claim("IMPL1");
    implantable.lines[0].procedure_code = "E0783";
    r.gate.on_claim(implantable, "a");
    REQUIRE(r.events.back().decision.result != outcome::hold_documentation);
    REQUIRE(r.events.back().decision.result != outcome::release);
    implantable.id = "IMPL2";
    r.gate.on_claim(implantable, "b");
    r.gate.on_claim(pump_claim("DOC1"), "c");
    using review = engine::gate::review_result;
    CHECK(r.gate.review("IMPL1", true, "review:alice", "trial documented on paper") ==
          review::done);
    CHECK(r.events.back().kind == engine::event_kind::release);
    CHECK(r.events.back().source == "review:alice");
    CHECK(r.events.back().note == "trial documented on paper");
    CHECK(r.events.back().trace() == "IMPL1-2");
    CHECK(r.gate.review("IMPL2", false, "review:bob", "duplicate") == review::done);
    CHECK(r.events.back().kind == engine::event_kind::cancel);
    CHECK(r.gate.find("IMPL2")->closed);
    CHECK(r.gate.review("IMPL1", true, "review:x", "again") == review::not_reviewable);
    CHECK(r.gate.review("IMPL2", false, "review:x", "twice") == review::already_closed);
    CHECK(r.gate.review("DOC1", true, "review:x", "x") == review::not_reviewable);
    CHECK(r.gate.review("NOPE", true, "review:x", "x") == review::unknown_claim);
    CHECK(r.gate.summary().by_outcome[static_cast<std::size_t>(outcome::release)] == 1);
    CHECK(r.gate.summary().by_outcome[static_cast<std::size_t>(outcome::hold_review)] == 0);
  }

  TEST_CASE("restored facts are indexed without re-evaluating or reporting anything") {
    recorder r;
    r.gate.on_claim(pump_claim(), "a");
    r.gate.restore_facts(documentation());
    CHECK(r.events.size() == 1);  // the held claim was not re-evaluated
    auto again = pump_claim("PUMP002");
    r.gate.on_claim(again, "b");  // but a new claim sees the restored facts
    CHECK(r.events.back().decision.result == outcome::release);
  }

  TEST_CASE("a retracted C-peptide reopens a released claim") {
    recorder r;
    for (const auto& f : documentation()) r.gate.on_facts({f}, "facts");
    r.gate.on_claim(pump_claim(), "claims");
    CHECK(r.kinds() == std::vector<std::string>{"release"});
    r.gate.on_facts({model::retraction{"Observation/cpep", "Patient/p", "1EG4TE5MK73"}}, "fix");
    REQUIRE(r.events.size() == 2);
    CHECK(r.events[1].kind == engine::event_kind::reopened);
    CHECK(r.events[1].decision.findings.front().reason ==
          model::reason::csii_insulinopenia_missing);
  }

  TEST_CASE("facts indexed by keys hashed ahead are found by a message that brings none") {
    // A batch read ahead brings each resource's table key, hashed on the reader's thread; a
    // later message (here a retraction) finds the resource by the key the index computes.
    recorder r;
    auto batch = documentation();
    model::fact_index::encoded_ahead ahead;
    model::fact_index::encode_ahead(batch, ahead);
    r.gate.on_facts_spending(batch, "facts", &ahead);
    r.gate.on_claim(pump_claim(), "claims");
    CHECK(r.kinds() == std::vector<std::string>{"release"});
    r.gate.on_facts({model::retraction{"Observation/cpep", "Patient/p", "1EG4TE5MK73"}}, "fix");
    REQUIRE(r.events.size() == 2);
    CHECK(r.events[1].kind == engine::event_kind::reopened);
  }

  TEST_CASE("one batch of two patients' facts, interleaved or in runs, re-evaluates each") {
    // The gate compares each fact's patient with the last one it noted: a run of one
    // patient's facts, another patient's between them, and a correction behind a run of its
    // patient's facts must each be noticed.
    constexpr const char* other_key = "2AB3CD4EF56";
    const auto of_other = [&](model::fact f) {
      std::visit(
          [&](auto& v) {
            if constexpr (requires { v.patient_key; }) v.patient_key = other_key;
            v.resource_id += "-2";
          },
          f);
      return f;
    };
    auto other_claim = pump_claim("PUMP002");
    other_claim.subscriber.member_id = other_key;

    recorder r;
    r.gate.on_claim(pump_claim(), "claims");
    r.gate.on_claim(other_claim, "claims");
    std::vector<model::fact> interleaved;
    for (const auto& f : documentation()) {
      interleaved.push_back(f);
      interleaved.push_back(of_other(f));
    }
    r.gate.on_facts(interleaved, "both");
    CHECK(r.kinds() == std::vector<std::string>{"hold", "hold", "release", "release"});
    CHECK(r.gate.find("PUMP001")->decision.result == outcome::release);
    CHECK(r.gate.find("PUMP002")->decision.result == outcome::release);

    // A new fact of the test patient, then the retraction of its C-peptide: the run's second
    // fact is a correction, which re-evaluates its released claim.
    auto extra = evidence("smbg-per-day", 5.0);
    extra.resource_id = "Observation/extra";
    r.gate.on_facts(
        {extra, model::retraction{"Observation/cpep", "Patient/p", test::test_patient_key}}, "fix");
    REQUIRE(r.events.size() == 5);
    CHECK(r.events[4].kind == engine::event_kind::reopened);
    CHECK(r.events[4].decision.claim_id == "PUMP001");

    // The other patient's retraction behind a new fact of its own, behind one of the test
    // patient: the correction is not the first patient's of the batch.
    auto extra_again = extra;
    extra_again.resource_id = "Observation/extra-again";
    r.gate.on_facts({extra_again, of_other(extra),
                     model::retraction{"Observation/cpep-2", "Patient/p-2", other_key}},
                    "fix");
    REQUIRE(r.events.size() == 6);
    CHECK(r.events[5].kind == engine::event_kind::reopened);
    CHECK(r.events[5].decision.claim_id == "PUMP002");
  }

  TEST_CASE("a fact that arrives before its Patient is linked when the Patient arrives") {
    recorder r;
    r.gate.on_claim(pump_claim(), "claims");
    auto facts = documentation();
    for (auto& f : facts) {
      std::visit(
          [](auto& v) {
            if constexpr (requires { v.patient_key; }) {
              v.patient_key.clear();
              v.patient = "Patient/p";
            }
          },
          f);
    }
    r.gate.on_facts(facts, "unlinked");
    CHECK(r.events.size() == 1);
    model::patient p;
    p.resource_id = "Patient/p";
    p.key = "1EG4TE5MK73";
    r.gate.on_facts({p}, "patient");
    CHECK(r.kinds().back() == "release");
  }

  TEST_CASE("a batch links in place up to a fact that must wait, and its Patient later in it") {
    // index_facts links a batch where it lies until a fact must wait for its Patient, then
    // hands the rest to the linker: every fact of both parts must reach the index, in order.
    for (std::size_t waits_from = 0; waits_from <= documentation().size(); ++waits_from) {
      CAPTURE(waits_from);
      recorder r;
      r.gate.on_claim(pump_claim(), "claims");
      auto facts = documentation();
      for (auto i = waits_from; i < facts.size(); ++i) {
        std::visit(
            [](auto& v) {
              if constexpr (requires { v.patient_key; }) {
                v.patient_key.clear();
                v.patient = "Patient/p";
              }
            },
            facts[i]);
      }
      model::patient p;
      p.resource_id = "Patient/p";
      p.key = "1EG4TE5MK73";
      facts.emplace_back(p);
      r.gate.on_facts(facts, "one batch");
      CHECK(r.kinds().back() == "release");  // it needs every one of the facts
      CHECK(r.gate.summary().facts == facts.size());
    }
  }

  TEST_CASE("property: the final outcome does not depend on the arrival order of facts") {
    std::mt19937 rng(223);
    for (int round = 0; round < 40; ++round) {
      auto facts = documentation();
      std::shuffle(facts.begin(), facts.end(), rng);
      const auto split = std::uniform_int_distribution<std::size_t>(0, facts.size())(rng);
      recorder r;
      for (std::size_t i = 0; i < split; ++i) r.gate.on_facts({facts[i]}, "before");
      r.gate.on_claim(pump_claim(), "claim");
      for (std::size_t i = split; i < facts.size(); ++i) r.gate.on_facts({facts[i]}, "after");
      CAPTURE(round);
      CHECK(r.gate.find("PUMP001")->decision.result == outcome::release);
      CHECK(r.events.back().kind == engine::event_kind::release);
    }
  }

  TEST_CASE("context_of reads the facts from another thread while the gate indexes more") {
    // The claim detail and the audit read a patient's facts beside the gate's thread (no gate
    // lock): each read must see whole entries, never a buffer being rewritten (TSan and ASan
    // builds check the rest).
    recorder r;
    r.gate.on_claim(pump_claim(), "claims.x12:0");
    std::atomic<bool> writing{true};
    std::size_t reads = 0;
    std::size_t most_seen = 0;
    bool whole = true;        // every fact read back as it was indexed
    bool monotone = true;     // facts only arrive in this test
    std::thread reader([&] {  // no doctest assertion here: the main thread checks
      while (writing.load()) {
        const auto context = r.gate.context_of(test::test_patient_key);
        for (const auto* f : context.facts) {
          const auto* l = std::get_if<model::lab_result>(f);
          whole = whole && l != nullptr && l->resource_id.starts_with("Observation/c") &&
                  l->unit == "ng/mL" && l->patient_key == test::test_patient_key;
        }
        monotone = monotone && context.facts.size() >= most_seen;
        most_seen = std::max(most_seen, context.facts.size());
        (void)context.provider_type_of("Practitioner/1");
        ++reads;
      }
    });
    for (int i = 0; i < 400; ++i) {
      const auto id = "Observation/c" + std::to_string(i);
      r.gate.on_facts({lab(id.c_str(), mapping::lab_kind::c_peptide_fasting, 0.5 + i / 1000.0,
                           "ng/mL", "2026-02-20")},
                      "labs.json");
      model::practitioner p;
      p.resource_id = "Practitioner/" + std::to_string(i);
      p.type = mapping::provider_type::physician;
      r.gate.on_facts({p}, "people.json");
    }
    writing = false;
    reader.join();
    CHECK(whole);
    CHECK(monotone);
    CHECK(r.gate.context_of(test::test_patient_key).facts.size() == 400);
    CHECK(r.gate.context_of("").provider_type_of("Practitioner/1") ==
          mapping::provider_type::physician);
    MESSAGE(reads << " reads while 800 messages were indexed");
  }
}
