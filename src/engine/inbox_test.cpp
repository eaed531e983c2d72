#include "covgate/engine/inbox.hpp"

#include <doctest/doctest.h>

#include <map>
#include <optional>

#include "covgate/store/memory_store.hpp"
#include "support/gate_fixtures.hpp"
#include "support/samples.hpp"

using namespace covgate;
using test::sample;

namespace {

struct fixture {
  store::memory_store claims;
  engine::inbox inbox{test::shipped_ncd223(), test::shipped_tables(), claims, {}};
  engine::message_time at{"202611271200"};
};

// What a durable caller keeps of accepted interchanges, in memory.
struct remembered_interchanges final : engine::interchange_memory {
  std::map<std::string, answer_given, std::less<>> answers;
  std::optional<answer_given> answer_of(std::string_view key) override {
    const auto it = answers.find(key);
    return it == answers.end() ? std::nullopt : std::optional(it->second);
  }
  void remember(std::string_view key, const answer_given& answer) override {
    answers.emplace(std::string(key), answer);
  }
};

}  // namespace

TEST_SUITE("engine.inbox") {
  TEST_CASE("an interchange sent again in a later message is answered as before, not re-run") {
    fixture f;
    remembered_interchanges memory;
    f.inbox.remember_interchanges(&memory);
    const auto claim = sample("scenarios/02-csii-release-after-late-lab/2-claim.x12");
    const auto first = f.inbox.receive(claim, "first", f.at);
    REQUIRE(first.claims == 1);
    CHECK(memory.answers.size() == 1);
    const auto events = f.claims.load("CSII-LATE")->events;
    const auto again = f.inbox.receive("\r\n" + claim + "\r\n", "retry", f.at);
    CHECK(again.body == first.body);  // byte for byte: same control numbers, same 277
    CHECK(again.claims == 1);
    CHECK(again.repeated_interchanges == 1);
    CHECK_FALSE(again.rejected);
    CHECK(f.claims.load("CSII-LATE")->events == events);  // nothing processed twice

    SUBCASE("the same control number on different content is refused with TA1 025") {
      auto other = claim;
      other.replace(other.find("CSII-LATE"), 9, "CSII-OTHR");
      const auto reused = f.inbox.receive(other, "reused", f.at);
      CHECK(reused.rejected);
      CHECK(reused.claims == 0);
      CHECK(reused.body.find("TA1*") != std::string::npos);
      CHECK(reused.body.find("*R*025~") != std::string::npos);
      CHECK_FALSE(f.claims.load("CSII-OTHR"));
    }
  }

  TEST_CASE("with duplicates set to reject, a retried interchange gets TA1 025") {
    store::memory_store claims;
    engine::inbox_settings settings;
    settings.duplicates = engine::duplicate_interchanges::reject;
    engine::inbox inbox{test::shipped_ncd223(), test::shipped_tables(), claims, settings};
    remembered_interchanges memory;
    inbox.remember_interchanges(&memory);
    const engine::message_time at{"202611271200"};
    const auto claim = sample("x12/01-insulin-pump-837p.x12");
    CHECK_FALSE(inbox.receive(claim, "first", at).rejected);
    const auto again = inbox.receive(claim, "retry", at);
    CHECK(again.rejected);
    CHECK(again.body.find("*R*025~") != std::string::npos);
  }

  TEST_CASE("a refused interchange is not remembered: corrected, it may come again") {
    fixture f;
    remembered_interchanges memory;
    f.inbox.remember_interchanges(&memory);
    const auto claim = sample("x12/01-insulin-pump-837p.x12");
    auto broken = claim;
    broken.replace(broken.find("*00501*"), 7, "*00401*");  // ISA12: refused at the envelope
    const auto refused = f.inbox.receive(broken, "broken", f.at);
    CHECK(refused.rejected);
    CHECK(refused.claims == 0);
    CHECK(memory.answers.empty());
    const auto corrected = f.inbox.receive(claim, "corrected", f.at);
    CHECK_FALSE(corrected.rejected);
    CHECK(corrected.claims > 0);
    CHECK(corrected.repeated_interchanges == 0);
    CHECK(memory.answers.size() == 1);
  }

  TEST_CASE("sniffs X12, FHIR, HL7 v2 and anything else") {
    CHECK(engine::sniff("\xEF\xBB\xBF  ISA*00*") == engine::payload_kind::x12);
    CHECK(engine::sniff("\r\nMSH|^~\\&|A") == engine::payload_kind::hl7v2);
    CHECK(engine::sniff(" {\"resourceType\":\"Patient\"}") == engine::payload_kind::fhir);
    CHECK(engine::sniff("<Patient xmlns=\"http://hl7.org/fhir\"/>") == engine::payload_kind::fhir);
    CHECK(engine::sniff("hello") == engine::payload_kind::unknown);
    CHECK(engine::sniff("") == engine::payload_kind::unknown);
  }

  TEST_CASE("a held claim is answered with a 277; its late lab releases it as a later event") {
    fixture f;
    const auto dir = std::string("scenarios/02-csii-release-after-late-lab/");
    const auto record = f.inbox.receive(sample(dir + "1-record.json"), "record", f.at);
    CHECK_FALSE(record.rejected);
    CHECK(record.later.empty());
    const auto claim = f.inbox.receive(sample(dir + "2-claim.x12"), "claim", f.at);
    CHECK(claim.kind == engine::payload_kind::x12);
    CHECK(claim.content_type == "application/edi-x12");
    CHECK_FALSE(claim.rejected);
    CHECK(claim.claims == 1);
    CHECK(claim.body.find("ST*277*") != std::string::npos);
    CHECK(claim.body.find("TRN*2*CSII-LATE") != std::string::npos);
    CHECK(claim.body.find("STC*P") != std::string::npos);  // a hold (pended)
    const auto labs = f.inbox.receive(sample(dir + "3-late-labs.json"), "labs", f.at);
    CHECK(labs.content_type == "application/fhir+json");
    CHECK(labs.body.find("\"resourceType\":\"OperationOutcome\"") != std::string::npos);
    REQUIRE(labs.later.size() == 1);
    CHECK(labs.later[0].kind == "release");
    const auto release = f.inbox.status_message(labs.later, f.at);
    CHECK(release.find("STC*A2:20") != std::string::npos);
    CHECK(release.find("REF*1K*CSII-LATE-2") != std::string::npos);
  }

  TEST_CASE("each 277 and acknowledgment gets its own interchange control number") {
    fixture f;
    const auto first = f.inbox.next_control();
    (void)f.inbox.receive(sample("x12/01-insulin-pump-837p.x12"), "a", f.at);
    CHECK(f.inbox.next_control() > first);
  }

  TEST_CASE("a refused interchange is answered with its acknowledgment and marked rejected") {
    fixture f;
    const auto a = f.inbox.receive(sample("x12/04-wrong-segment-count.x12"), "bad", f.at);
    CHECK(a.rejected);
    CHECK(a.body.find("ST*999*") != std::string::npos);
    CHECK(a.body.find("IK5*R") != std::string::npos);
    const auto refused = f.inbox.receive(sample("x12/05-refused-4010.x12"), "old", f.at);
    CHECK(refused.rejected);
  }

  TEST_CASE("HL7 v2 is answered AR with ERR 200; unrecognized bytes too") {
    fixture f;
    const auto a = f.inbox.receive(
        "MSH|^~\\&|EPIC|HOSP|COVGATE|GATE|202611271200||ADT^A01|M1|P|2.5.1\rPID|1\r", "v2", f.at);
    CHECK(a.kind == engine::payload_kind::hl7v2);
    CHECK(a.rejected);
    CHECK(a.body.find("MSA|AR|M1\r") != std::string::npos);
    CHECK(a.body.find("ERR|||200^") != std::string::npos);
    const auto junk = f.inbox.receive("hello", "junk", f.at);
    CHECK(junk.rejected);
    CHECK(junk.body.find("MSA|AR|") != std::string::npos);
  }

  TEST_CASE("bad FHIR gets an OperationOutcome with an error and changes nothing") {
    fixture f;
    const auto a = f.inbox.receive("{\"resourceType\":\"Observation\",", "bad", f.at);
    CHECK(a.rejected);
    CHECK(a.body.find("\"severity\":\"fatal\"") != std::string::npos);
    CHECK(a.later.empty());
  }
}
