#include "covgate/engine/inbox.hpp"

#include <doctest/doctest.h>

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

}  // namespace

TEST_SUITE("engine.inbox") {
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
