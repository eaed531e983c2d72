#include "covgate/cluster/front_route.hpp"

#include <doctest/doctest.h>

#include <string>

#include "covgate/x12/split_by_patient.hpp"
#include "support/samples.hpp"
#include "support/x12_fixtures.hpp"

using namespace covgate;
using namespace covgate::cluster;

namespace {

const mapping::tables& tables() {
  static const auto t = mapping::tables::parse(mapping::embedded_sources());
  return t;
}

route_plan plan(std::string_view message) {
  return plan_route(message, tables(), route_settings{}, 1'796'040'000'000);  // 2026-11-30
}

const std::string scenario = "scenarios/02-csii-release-after-late-lab/";

}  // namespace

TEST_SUITE("cluster.front_route") {
  TEST_CASE("an accepted interchange is split into one part per patient, each a claim") {
    auto body = test::professional_body();
    // A second subscriber with a claim of their own under the same billing provider.
    body.insert(body.end(),
                {"HL*3*1*22*0", "SBR*P*18*******MB", "NM1*IL*1*ROE*RICHARD****MI*2BB2BB2BB22",
                 "NM1*PR*2*MEDICARE*****PI*16013", "CLM*PUMP002*50***12:B:1*Y*A*Y*Y",
                 "HI*ABK:E1065", "LX*1", "SV1*HC:A4224:KX*50*UN*1***1", "DTP*472*D8*20260310"});
    body[10] = "HL*2*1*22*0";
    const auto text = test::interchange(body);
    const auto p = plan(text);
    REQUIRE(p.refusal.empty());
    CHECK(p.kind == engine::payload_kind::x12);
    REQUIRE(p.pieces.size() == 1);
    const auto& piece = p.pieces[0];
    CHECK_FALSE(piece.local);
    CHECK(piece.text == text);
    REQUIRE(piece.parts.size() == 2);
    CHECK(piece.parts[0].patient_key == "1EG4TE5MK73");
    CHECK(piece.parts[1].patient_key == "2BB2BB2BB22");
    for (const auto& part : piece.parts) {
      CHECK(part.kind == message_kind::claim);
      CHECK(part.payload.find("NM1*IL*1*") != std::string::npos);
    }
    CHECK(piece.parts[0].payload.find("PUMP002") == std::string::npos);
    // The fixture asks for a TA1 (ISA14 = 1): the front writes it from its own read.
    CHECK(piece.acknowledgment.find("TA1*000000101*") != std::string::npos);
  }

  TEST_CASE("each interchange of a stream is planned by itself; one refused whole is local") {
    const auto claim = test::sample(scenario + "2-claim.x12");
    const auto refused = test::sample("x12/05-refused-4010.x12");
    const auto stream = claim + refused;
    const auto p = plan(stream);
    REQUIRE(p.refusal.empty());
    REQUIRE(p.pieces.size() == 2);
    CHECK_FALSE(p.pieces[0].local);
    REQUIRE(p.pieces[0].parts.size() == 1);
    CHECK(p.pieces[0].parts[0].patient_key == "2AA2AA2AA02");
    CHECK(p.pieces[0].acknowledgment.empty());  // nothing asked for, nothing noted
    CHECK(p.pieces[1].local);
    CHECK(p.pieces[1].parts.empty());
    CHECK(std::string(p.pieces[0].text) + std::string(p.pieces[1].text) == stream);
  }

  TEST_CASE("a partly accepted interchange is refused, and nothing is planned") {
    auto text = test::interchange(test::professional_body(), 2);
    const auto bad = text.find("SE*30*0002");
    REQUIRE(bad != std::string::npos);
    text.replace(bad, 10, "SE*31*0002");
    const auto p = plan(text);
    CHECK(p.pieces.empty());
    CHECK(p.refusal.find("interchange 1 is only partly accepted") == 0);
    CHECK(p.refusal.find("1EG4TE5MK73") == std::string::npos);
  }

  TEST_CASE("a FHIR message goes whole to its one patient; a Practitioner travels with it") {
    for (const auto* file : {"1-record.json", "3-late-labs.json"}) {
      const auto text = test::sample(scenario + file);
      const auto p = plan(text);
      INFO(file);
      REQUIRE(p.refusal.empty());
      REQUIRE(p.pieces.size() == 1);
      REQUIRE(p.pieces[0].parts.size() == 1);
      CHECK(p.pieces[0].parts[0].kind == message_kind::fhir);
      CHECK(p.pieces[0].parts[0].patient_key == "2AA2AA2AA02");
      CHECK(p.pieces[0].parts[0].payload == text);
    }
  }

  TEST_CASE("an HL7 v2 message goes whole to the patient of its PID") {
    const auto text =
        test::sample("scenarios-hl7v2/02-csii-release-after-late-lab/3-late-labs.hl7");
    const auto p = plan(text);
    REQUIRE(p.refusal.empty());
    REQUIRE(p.pieces.size() == 1);
    REQUIRE(p.pieces[0].parts.size() == 1);
    CHECK(p.pieces[0].parts[0].kind == message_kind::hl7v2);
    CHECK(p.pieces[0].parts[0].patient_key == "2AA2AA2AA02");
  }

  TEST_CASE("HL7 v2 messages of two patients in one payload are refused") {
    const auto text =
        test::sample("scenarios-hl7v2/01-csii-released/1-record.hl7") +
        test::sample("scenarios-hl7v2/02-csii-release-after-late-lab/3-late-labs.hl7");
    const auto p = plan(text);
    CHECK(p.pieces.empty());
    CHECK(p.refusal.find("facts of 2 patients") != std::string::npos);
  }

  TEST_CASE("facts of several patients, of a patient only referenced, or of nobody are refused") {
    const auto day = test::sample("days/mixed-day/1-records.ndjson");
    CHECK(plan(day).refusal.find("patients: a cluster front routes one patient's facts") !=
          std::string::npos);
    const std::string referenced =
        R"({"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"reference":"Patient/p9"},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
    const auto unlinked = plan(referenced);
    CHECK(unlinked.pieces.empty());
    CHECK(unlinked.refusal.find("identity map") != std::string::npos);
    const std::string practitioner =
        R"({"resourceType":"Practitioner","id":"dr1","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}],"qualification":[{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0360","code":"MD"}]}}]})";
    CHECK(plan(practitioner).refusal.find("reference data only") != std::string::npos);
  }

  TEST_CASE("what a worker would keep nothing of is answered by the front") {
    for (const std::string& text :
         {std::string("{not json"), test::sample("fhir/04-rejected-observation.json"),
          std::string("hello"), std::string()}) {
      const auto p = plan(text);
      CHECK(p.refusal.empty());
      REQUIRE(p.pieces.size() == 1);
      CHECK(p.pieces[0].local);
    }
  }
}
