#include "covgate/cluster/front_route.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>

#include "covgate/fhir/reader.hpp"
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

// What a worker answers for a part: its OperationOutcome, read as the intake reads a message.
std::string worker_outcome(std::string_view payload) {
  return fhir::operation_outcome_json(
      fhir::read(payload, fhir::sniff(payload), tables(), fhir::read_limits{}));
}

// The workers' answers to a split message, merged by the front.
std::string merged(const route_piece& piece) {
  std::vector<const routed_part*> parts;
  std::vector<std::string> answers;
  for (const auto& part : piece.parts) {
    parts.push_back(&part);
    answers.push_back(worker_outcome(part.payload));
  }
  const std::vector<std::string_view> views(answers.begin(), answers.end());
  return piece.parts.front().entries.empty()
             ? merge_ndjson_outcomes(parts, views, piece.own_outcome)
             : merge_bundle_outcomes(parts, views, piece.own_outcome);
}

// The one piece of a message split into `parts` parts (the plan's refusal shown otherwise).
route_piece split_into(std::string_view text, std::size_t parts) {
  auto p = plan(text);
  INFO(p.refusal);
  REQUIRE(p.pieces.size() == 1);
  REQUIRE(p.pieces[0].parts.size() == parts);
  return std::move(p.pieces[0]);
}

std::string bundle_of(std::string_view type, const std::vector<std::string>& entries) {
  std::string out = R"({"resourceType":"Bundle","type":")" + std::string(type) + R"(","entry":[)";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += ',';
    out += entries[i];
  }
  return out + "]}";
}

std::string entry(const std::string& resource, std::string_view full_url = {}) {
  if (full_url.empty()) return R"({"resource":)" + resource + "}";
  return R"({"fullUrl":")" + std::string(full_url) + R"(","resource":)" + resource + "}";
}

const std::string obs_by_reference =
    R"({"resourceType":"Observation","id":"g1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"reference":"Patient/pa"},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
const std::string patient_a =
    R"({"resourceType":"Patient","id":"pa","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"1AA1AA1AA11"}]})";
const std::string practitioner_line =
    R"({"resourceType":"Practitioner","id":"dr1","qualification":[{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0360","code":"MD"}]}}]})";
// Patient B's one line: a glucose in a unit no table knows (a warning the worker reports).
const std::string obs_b_odd_unit =
    R"({"resourceType":"Observation","id":"g2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"identifier":{"system":"http://hl7.org/fhir/sid/us-mbi","value":"2BB2BB2BB22"}},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"furlongs","system":"http://unitsofmeasure.org","code":"[fur_us]"}})";

// A glucose `id` of the patient a reference names only by its local id (Patient/<patient>).
std::string glucose_of(const std::string& patient, const std::string& id) {
  return R"({"resourceType":"Observation","id":")" + id +
         R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"reference":"Patient/)" +
         patient +
         R"("},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
}

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

  TEST_CASE("HL7 v2 messages of two patients in one payload: one piece per message, in order") {
    const auto first = test::sample("scenarios-hl7v2/01-csii-released/1-record.hl7");  // 2 msgs
    const auto second =
        test::sample("scenarios-hl7v2/02-csii-release-after-late-lab/3-late-labs.hl7");
    const std::string unknown = "MSH|^~\\&|S|F|R|F|20260101||ZZZ^Z01|Z1|P|2.5\r";
    const auto text = first + unknown + second;
    const auto p = plan(text);
    REQUIRE(p.refusal.empty());
    CHECK(p.kind == engine::payload_kind::hl7v2);
    REQUIRE(p.pieces.size() == 4);
    std::string again;
    for (const auto& piece : p.pieces) again += std::string(piece.text);
    CHECK(again == text);  // every byte in one piece, in the payload's order
    // The patient's two messages travel as one part, carried by the first one's piece.
    REQUIRE(p.pieces[0].parts.size() == 1);
    CHECK(p.pieces[0].parts[0].patient_key == "1AA1AA1AA01");
    CHECK(p.pieces[0].parts[0].kind == message_kind::hl7v2);
    CHECK(p.pieces[0].parts[0].payload == first);
    CHECK(p.pieces[0].control_id == "ADT-1AA1AA1AA01-1");
    CHECK(p.pieces[1].parts.empty());
    CHECK(p.pieces[1].carried_by == 0u);
    CHECK_FALSE(p.pieces[1].local);
    CHECK(p.pieces[1].control_id == "ORU-1AA1AA1AA01-2");
    CHECK(p.pieces[2].local);  // a message type no rule reads: the front's own ACK
    CHECK(p.pieces[2].text == unknown);
    REQUIRE(p.pieces[3].parts.size() == 1);
    CHECK(p.pieces[3].parts[0].patient_key == "2AA2AA2AA02");
    CHECK(p.pieces[3].text == second);
    // A patient's two messages under one MSH-10 cannot be answered apart: refused.
    auto twice = first;
    const auto second_id = twice.find("ORU-1AA1AA1AA01-2");
    REQUIRE(second_id != std::string::npos);
    twice.replace(second_id, 17, "ADT-1AA1AA1AA01-1");
    const auto same_id = plan(twice + second);
    CHECK(same_id.pieces.empty());
    CHECK(same_id.refusal.find("message 2 of the payload has no MSH-10, or repeats") == 0);
    // One patient's messages stay one piece, as before.
    const auto one = plan(first);
    REQUIRE(one.pieces.size() == 1);
    CHECK(one.pieces[0].text == first);
  }

  TEST_CASE("facts of a patient only referenced go by that identity; reference data to CG_REF") {
    const std::string referenced =
        R"({"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"reference":"Patient/p9"},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
    const auto by_identity = plan(referenced);
    REQUIRE(by_identity.refusal.empty());
    REQUIRE(by_identity.pieces.size() == 1);
    REQUIRE(by_identity.pieces[0].parts.size() == 1);
    const auto& part = by_identity.pieces[0].parts[0];
    CHECK(part.patient_key.empty());
    CHECK(part.patient_identity == "Patient/p9");
    CHECK(part.payload == referenced);
    CHECK_FALSE(by_identity.pieces[0].reference);
    CHECK_FALSE(by_identity.pieces[0].local);
    // NDJSON of two patients named only by reference: one part per identity, each routed by
    // the identity map.
    const auto two = split_into(referenced + "\n" + obs_by_reference + "\n", 2);
    CHECK(two.parts[0].patient_identity == "Patient/p9");
    CHECK(two.parts[1].patient_identity == "Patient/pa");
    for (const auto& p : two.parts) CHECK(p.patient_key.empty());
    CHECK(two.parts[0].lines == std::vector<std::uint32_t>{1});
    CHECK(two.parts[1].lines == std::vector<std::uint32_t>{2});
    // One named by a Medicare identifier and one only by reference: a part for each.
    const auto mixed = split_into(referenced + "\n" + obs_b_odd_unit + "\n", 2);
    CHECK(mixed.parts[0].patient_identity == "Patient/p9");
    CHECK(mixed.parts[0].patient_key.empty());
    CHECK(mixed.parts[1].patient_key == "2BB2BB2BB22");
    CHECK(mixed.parts[1].patient_identity.empty());
    CHECK(mixed.parts[1].payload == obs_b_odd_unit + "\n");
    // The answers merge as a single server's: the identity's line is accepted (it waits), the
    // odd unit warned about on the sender's line 2.
    CHECK(merged(mixed) == worker_outcome(referenced + "\n" + obs_b_odd_unit + "\n"));
    // A collection Bundle of the same two, one Medicare identifier among them: split too.
    const auto bundle_mixed =
        split_into(bundle_of("collection", {entry(referenced), entry(obs_b_odd_unit)}), 2);
    CHECK(bundle_mixed.parts[0].patient_identity == "Patient/p9");
    CHECK(bundle_mixed.parts[1].patient_key == "2BB2BB2BB22");
    // A transaction Bundle of them is never split (all or nothing): refused.
    const auto bundle_two =
        plan(bundle_of("transaction", {entry(referenced), entry(obs_b_odd_unit)}));
    CHECK(bundle_two.pieces.empty());
    CHECK(bundle_two.refusal.find("a transaction Bundle holds facts of 2 patients") == 0);
    const std::string practitioner =
        R"({"resourceType":"Practitioner","id":"dr1","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}],"qualification":[{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0360","code":"MD"}]}}]})";
    const auto reference = plan(practitioner);
    CHECK(reference.refusal.empty());
    REQUIRE(reference.pieces.size() == 1);
    CHECK(reference.pieces[0].reference);
    CHECK_FALSE(reference.pieces[0].local);
    REQUIRE(reference.pieces[0].parts.size() == 1);
    CHECK(reference.pieces[0].parts[0].patient_key.empty());
    CHECK(reference.pieces[0].parts[0].kind == message_kind::fhir);
    CHECK(reference.pieces[0].parts[0].payload == practitioner);
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

  TEST_CASE("NDJSON of several patients is split by line, the sender's line numbers kept") {
    // 1 a Practitioner, 2 patient A, 3 "garbage" (no object: a part holding it might be read
    // as one JSON document), 4 A's glucose by reference, 5 blank, 6 B's glucose, 7 not JSON.
    const std::string text = practitioner_line + "\n" + patient_a + "\ngarbage\n" +
                             obs_by_reference + "\n\n" + obs_b_odd_unit + "\n{not json\n";
    const auto p = plan(text);
    REQUIRE(p.refusal.empty());
    REQUIRE(p.pieces.size() == 1);
    const auto& piece = p.pieces[0];
    CHECK_FALSE(piece.local);
    REQUIRE(piece.parts.size() == 2);
    const auto& a = piece.parts[0];
    const auto& b = piece.parts[1];
    CHECK(a.patient_key == "1AA1AA1AA11");
    CHECK(a.kind == message_kind::fhir);
    CHECK(a.lines == std::vector<std::uint32_t>{1, 2, 4});
    CHECK(a.shared_lines == std::vector<std::uint32_t>{1});
    CHECK(a.payload == practitioner_line + "\n" + patient_a + "\n" + obs_by_reference + "\n");
    CHECK(b.patient_key == "2BB2BB2BB22");
    CHECK(b.lines == std::vector<std::uint32_t>{1, 6});
    CHECK(b.payload == practitioner_line + "\n" + obs_b_odd_unit + "\n");
    CHECK(piece.repeated_facts == 1);  // the Practitioner, read by both workers
    // The lines of no fact are the front's to answer.
    CHECK(piece.own_outcome.find("line 3: ") != std::string::npos);
    CHECK(piece.own_outcome.find("line 7: ") != std::string::npos);
    CHECK(piece.own_rejected);
    // The workers' answers and the front's merge into the OperationOutcome a single server
    // writes.
    const auto whole = worker_outcome(text);
    CHECK(whole.find("line 3: ") != std::string::npos);
    CHECK(whole.find("line 7: ") != std::string::npos);
    CHECK(merged(piece) == whole);
  }

  TEST_CASE("a part of one line is answered without line numbers; the merge adds the sender's") {
    const std::string text = patient_a + "\n" + obs_by_reference + "\n" + obs_b_odd_unit + "\n";
    const auto p = plan(text);
    REQUIRE(p.pieces.size() == 1);
    REQUIRE(p.pieces[0].parts.size() == 2);
    const auto& b = p.pieces[0].parts[1];
    CHECK(b.lines == std::vector<std::uint32_t>{3});
    const auto alone = worker_outcome(b.payload);
    INFO(alone);
    CHECK(alone.find("line ") == std::string::npos);  // read as one resource
    CHECK(alone.find("\"severity\":\"warning\"") != std::string::npos);
    const auto whole = worker_outcome(text);
    CHECK(whole.find("line 3: ") != std::string::npos);
    CHECK(merged(p.pieces[0]) == whole);
  }

  TEST_CASE("the mixed day's records split into one part per patient, their answers merged") {
    const auto day = test::sample("days/mixed-day/1-records.ndjson");
    const auto p = plan(day);
    REQUIRE(p.refusal.empty());
    REQUIRE(p.pieces.size() == 1);
    const auto& parts = p.pieces[0].parts;
    std::set<std::string> keys;
    std::set<std::uint32_t> own;
    std::size_t lines = 0;
    for (const auto& part : parts) {
      keys.insert(part.patient_key);
      for (const auto n : part.lines) {
        if (std::find(part.shared_lines.begin(), part.shared_lines.end(), n) ==
            part.shared_lines.end()) {
          CHECK(own.insert(n).second);  // a patient's line is in one part only
        }
      }
      // Every line of the part names this patient or none (the shared Practitioners).
      std::stringstream in(part.payload);
      for (std::string line; std::getline(in, line);) {
        const bool names_patient = line.find("us-mbi") != std::string::npos ||
                                   line.find("Patient/pt-") != std::string::npos;
        if (names_patient) CHECK(line.find(part.patient_key) != std::string::npos);
      }
    }
    for (std::string_view rest = day; !rest.empty();) {
      const auto end = rest.find('\n');
      if (!rest.substr(0, end).empty()) ++lines;
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    }
    CHECK(keys.size() == parts.size());
    CHECK(parts.size() == 122);
    CHECK(own.size() + parts[0].shared_lines.size() == lines);
    CHECK(merged(p.pieces[0]) == worker_outcome(day));
  }

  TEST_CASE("regression: NDJSON of one patient past the message-size limit still goes to them") {
    // The limit applies per line, as the worker's reader applies it; a whole-message read at
    // the front once refused the message silently and answered it itself, so its facts never
    // reached a worker.
    const std::string message = patient_a + "\n" + obs_by_reference + "\n" + practitioner_line;
    route_settings settings;
    settings.fhir.max_bytes = std::max(patient_a.size(), obs_by_reference.size()) + 1;
    REQUIRE(message.size() > settings.fhir.max_bytes);
    const auto p = plan_route(message, tables(), settings, 1'796'040'000'000);
    REQUIRE(p.refusal.empty());
    REQUIRE(p.pieces.size() == 1);
    CHECK_FALSE(p.pieces[0].local);
    REQUIRE(p.pieces[0].parts.size() == 1);
    CHECK(p.pieces[0].parts[0].patient_key == "1AA1AA1AA11");
    CHECK(p.pieces[0].parts[0].payload == message);
  }

  TEST_CASE("an NDJSON line with facts of two patients, or reference data beyond the budget") {
    const std::string bundle =
        R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":)" + obs_b_odd_unit +
        R"(},{"resource":)" +
        R"({"resourceType":"Observation","id":"g3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"identifier":{"system":"http://hl7.org/fhir/sid/us-mbi","value":"3CC3CC3CC33"}},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})" +
        "}]}";
    const auto two = plan(patient_a + "\n" + obs_by_reference + "\n" + bundle + "\n");
    CHECK(two.pieces.empty());
    CHECK(two.refusal.find("line 3 holds facts of 2 patients") != std::string::npos);
    // 2,000 patients, each with one line, and 200 Practitioner lines every part must carry.
    std::string wide;
    for (int i = 0; i < 200; ++i) wide += practitioner_line + "\n";
    for (int i = 0; i < 2'000; ++i) {
      auto line = obs_b_odd_unit;
      const auto at = line.find("2BB2BB2BB22");
      line.replace(at, 11, "P" + std::to_string(100'000 + i) + "XXXXX");
      wide += line + "\n";
    }
    const auto too_wide = plan(wide);
    CHECK(too_wide.pieces.empty());
    CHECK(too_wide.refusal.find("would exceed four times its size") != std::string::npos);
  }

  TEST_CASE("a Patient with local identifiers only goes by its identity, never as reference data") {
    const std::string local_patient =
        R"({"resourceType":"Patient","id":"px","identifier":[{"system":"urn:oid:1.2.3","value":"MRN-1"}],"birthDate":"1950-01-02"})";
    const auto alone = plan(local_patient);
    REQUIRE(alone.refusal.empty());
    REQUIRE(alone.pieces.size() == 1);
    CHECK_FALSE(alone.pieces[0].reference);
    REQUIRE(alone.pieces[0].parts.size() == 1);
    CHECK(alone.pieces[0].parts[0].patient_identity == "Patient/px");
    // In NDJSON of several patients: a part of its own, by its identity, never copied into
    // every part; an Observation naming it goes with it.
    const std::string obs_px =
        R"({"resourceType":"Observation","id":"gx","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"reference":"Patient/px"},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
    const auto split = split_into(patient_a + "\n" + obs_by_reference + "\n" + local_patient +
                                      "\n" + obs_b_odd_unit + "\n" + obs_px + "\n",
                                  3);
    CHECK(split.parts[0].patient_key == "1AA1AA1AA11");
    CHECK(split.parts[0].lines == std::vector<std::uint32_t>{1, 2});
    CHECK(split.parts[1].patient_identity == "Patient/px");
    CHECK(split.parts[1].lines == std::vector<std::uint32_t>{3, 5});
    CHECK(split.parts[1].links.empty());
    CHECK(split.parts[2].patient_key == "2BB2BB2BB22");
    // An Observation naming no patient yields no fact: the front answers its line itself.
    const std::string anonymous =
        R"({"resourceType":"Observation","id":"gz","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"display":"somebody"},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
    const auto nobody = split_into(patient_a + "\n" + obs_b_odd_unit + "\n" + anonymous + "\n", 2);
    CHECK(nobody.own_outcome.find("line 3: ") != std::string::npos);
  }

  TEST_CASE("an HL7 v2 result by medical record number alone goes by the PID's identity") {
    // The scenario's late labs as a lab system that knows only its own record numbers sends
    // them, and as a registration system sends both.
    const auto text =
        test::sample("scenarios-hl7v2/02-csii-release-after-late-lab/3-late-labs.hl7");
    const std::string mbi = "2AA2AA2AA02^^^CMS&2.16.840.1.113883.4.927&ISO^MC";
    const auto at = text.find(mbi);
    REQUIRE(at != std::string::npos);
    const auto with = [&](const std::string& ids) {
      auto copy = text;
      copy.replace(at, mbi.size(), ids);
      return copy;
    };
    const auto by_record = plan(with("MRN-77^^^SAMPLE-HOSP^MR"));
    REQUIRE(by_record.refusal.empty());
    REQUIRE(by_record.pieces.size() == 1);
    REQUIRE(by_record.pieces[0].parts.size() == 1);
    const auto& part = by_record.pieces[0].parts[0];
    CHECK(part.patient_key.empty());
    CHECK(part.patient_identity.rfind("Patient/", 0) == 0);
    // Both in PID-3 name the same Patient, linked to the Medicare identifier: a front links
    // it, and the record-number-only message follows to that partition.
    const auto with_both = plan(with("MRN-77^^^SAMPLE-HOSP^MR~" + mbi));
    REQUIRE(with_both.pieces.size() == 1);
    const auto& linked = with_both.pieces[0].parts[0];
    CHECK(linked.patient_key == "2AA2AA2AA02");
    CHECK(linked.links == std::vector<std::string>{part.patient_identity});
    // Another hospital's record number is another identity.
    const auto elsewhere = plan(with("MRN-77^^^OTHER-HOSP^MR"));
    REQUIRE(elsewhere.pieces.size() == 1);
    CHECK(elsewhere.pieces[0].parts[0].patient_identity != part.patient_identity);
    // Two patients' messages by record number in one payload: one piece each.
    auto second = with("MRN-78^^^SAMPLE-HOSP^MR");
    second.replace(second.find("ORU-2AA2AA2AA02-1"), 17, "ORU-2AA2AA2AA02-2");
    const auto pair = plan(with("MRN-77^^^SAMPLE-HOSP^MR") + second);
    REQUIRE(pair.refusal.empty());
    REQUIRE(pair.pieces.size() == 2);
    CHECK(pair.pieces[0].parts[0].patient_identity == part.patient_identity);
    CHECK(pair.pieces[1].parts[0].patient_identity != part.patient_identity);
    CHECK_FALSE(pair.pieces[1].parts[0].patient_identity.empty());
  }

  TEST_CASE("each part names the Patients it links: whole, NDJSON and Bundle parts") {
    const auto whole = plan(patient_a + "\n" + obs_by_reference + "\n");
    REQUIRE(whole.pieces.size() == 1);
    CHECK(whole.pieces[0].parts[0].links == std::vector<std::string>{"Patient/pa"});
    const std::string patient_b =
        R"({"resourceType":"Patient","id":"pb","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"2BB2BB2BB22"}]})";
    const auto lines =
        plan(patient_a + "\n" + obs_by_reference + "\n" + patient_b + "\n" + obs_b_odd_unit + "\n");
    REQUIRE(lines.refusal.empty());
    REQUIRE(lines.pieces.size() == 1);
    REQUIRE(lines.pieces[0].parts.size() == 2);
    CHECK(lines.pieces[0].parts[0].links == std::vector<std::string>{"Patient/pa"});
    CHECK(lines.pieces[0].parts[1].links == std::vector<std::string>{"Patient/pb"});
    const auto bundle = plan(bundle_of("collection", {entry(patient_a), entry(obs_by_reference),
                                                      entry(patient_b), entry(obs_b_odd_unit)}));
    REQUIRE(bundle.refusal.empty());
    REQUIRE(bundle.pieces[0].parts.size() == 2);
    CHECK(bundle.pieces[0].parts[0].links == std::vector<std::string>{"Patient/pa"});
    CHECK(bundle.pieces[0].parts[1].links == std::vector<std::string>{"Patient/pb"});
    // Claims link nothing: an 837 names the member by the Medicare identifier alone.
    const auto claims = plan(test::sample("x12/01-insulin-pump-837p.x12"));
    REQUIRE_FALSE(claims.pieces.empty());
    for (const auto& p : claims.pieces[0].parts) CHECK(p.links.empty());
  }

  TEST_CASE("a Bundle of several patients is split by entry, the sender's entry numbers kept") {
    // 0 a Practitioner (every part), 1 patient A, 2 A's glucose by reference, 3 a glucose in no
    // code the rules read (no fact: the front's), 4 B's glucose in an odd unit (a warning), 5
    // patient C known by fullUrl only, 6 C's glucose referring to that fullUrl.
    const std::string patient_c =
        R"({"resourceType":"Patient","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"3CC3CC3CC33"}]})";
    const std::string obs_c =
        R"({"resourceType":"Observation","id":"g3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"reference":"urn:uuid:6f1e1b7a-0c1d-4d52-9f4c-2a1c1f0e7b11"},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
    const std::string obs_unread =
        R"({"resourceType":"Observation","id":"g9","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/pa"},"valueQuantity":{"value":70}})";
    const std::vector<std::string> entries{
        entry(practitioner_line),
        entry(patient_a),
        entry(obs_by_reference),
        entry(obs_unread),
        entry(obs_b_odd_unit),
        entry(patient_c, "urn:uuid:6f1e1b7a-0c1d-4d52-9f4c-2a1c1f0e7b11"),
        entry(obs_c)};
    const auto text = bundle_of("collection", entries);
    const auto piece = split_into(text, 3);
    const auto& a = piece.parts[0];
    const auto& b = piece.parts[1];
    const auto& c = piece.parts[2];
    CHECK(a.patient_key == "1AA1AA1AA11");
    CHECK(a.entries == std::vector<std::uint32_t>{0, 1, 2});
    CHECK(a.shared_entries == std::vector<std::uint32_t>{0});
    CHECK(a.lines.empty());
    CHECK(a.payload == bundle_of("collection", {entries[0], entries[1], entries[2]}));
    CHECK(b.patient_key == "2BB2BB2BB22");
    CHECK(b.entries == std::vector<std::uint32_t>{0, 4});
    CHECK(b.payload == bundle_of("collection", {entries[0], entries[4]}));
    CHECK(c.patient_key == "3CC3CC3CC33");
    CHECK(c.entries == std::vector<std::uint32_t>{0, 5, 6});
    CHECK(piece.repeated_facts == 2);  // the Practitioner, read by three workers
    // The entry of no fact is the front's to answer, under its own number.
    CHECK(piece.own_outcome.find("Bundle.entry[3]") != std::string::npos);
    CHECK_FALSE(piece.own_rejected);
    // The workers' answers and the front's merge into the OperationOutcome a single server
    // writes: B's warning back on entry 4, not on its part's entry 1.
    const auto whole = worker_outcome(text);
    CHECK(whole.find("Bundle.entry[4]") != std::string::npos);
    CHECK(worker_outcome(b.payload).find("Bundle.entry[1]") != std::string::npos);
    CHECK(merged(piece) == whole);
    // And a batch the same way.
    const auto batch = plan(bundle_of("batch", entries));
    REQUIRE(batch.pieces.size() == 1);
    CHECK(batch.pieces[0].parts.size() == 3);
    CHECK(batch.pieces[0].parts[1].payload == bundle_of("batch", {entries[0], entries[4]}));
  }

  TEST_CASE("a Bundle's entries of a patient it does not identify go by that identity") {
    // 0 patient A, 1 A's glucose by reference, 2 a glucose of Patient/p9 (not in the Bundle),
    // 3 B's glucose, 4 a Patient with local identifiers only, 5 a glucose referring to it.
    const std::string obs_p9 =
        R"({"resourceType":"Observation","id":"o9","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"reference":"Patient/p9"},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
    const std::string local_patient =
        R"({"resourceType":"Patient","id":"px","identifier":[{"system":"urn:oid:1.2.3","value":"MRN-1"}]})";
    const std::string obs_px =
        R"({"resourceType":"Observation","id":"gx","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"reference":"Patient/px"},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
    const std::vector<std::string> entries{entry(patient_a),     entry(obs_by_reference),
                                           entry(obs_p9),        entry(obs_b_odd_unit),
                                           entry(local_patient), entry(obs_px)};
    const auto text = bundle_of("collection", entries);
    const auto piece = split_into(text, 4);
    CHECK(piece.parts[0].patient_key == "1AA1AA1AA11");
    CHECK(piece.parts[0].entries == std::vector<std::uint32_t>{0, 1});
    CHECK(piece.parts[1].patient_identity == "Patient/p9");
    CHECK(piece.parts[1].patient_key.empty());
    CHECK(piece.parts[1].entries == std::vector<std::uint32_t>{2});
    CHECK(piece.parts[1].links.empty());
    CHECK(piece.parts[2].patient_key == "2BB2BB2BB22");
    CHECK(piece.parts[3].patient_identity == "Patient/px");
    CHECK(piece.parts[3].entries == std::vector<std::uint32_t>{4, 5});
    // Answered as one server answers the whole Bundle.
    CHECK(merged(piece) == worker_outcome(text));
    // A transaction of them is still refused (all or nothing).
    const auto transaction = plan(bundle_of("transaction", entries));
    CHECK(transaction.pieces.empty());
    CHECK_FALSE(transaction.refusal.empty());
    // A transaction of one keyed patient and a Patient with local identifiers only goes whole
    // to the keyed patient, as before identities were split out.
    const auto keyed_and_local =
        plan(bundle_of("transaction", {entries[0], entries[1], entries[4]}));
    INFO(keyed_and_local.refusal);
    REQUIRE(keyed_and_local.pieces.size() == 1);
    REQUIRE(keyed_and_local.pieces[0].parts.size() == 1);
    CHECK(keyed_and_local.pieces[0].parts[0].patient_key == "1AA1AA1AA11");
  }

  TEST_CASE("an identity the front knows linked to another part's patient joins that part") {
    // A glucose by reference to Patient/p9, which the identity map links to B (2BB2BB2BB22),
    // and B's own glucose: planned again with the link known, one part for B with both lines.
    const std::string obs_p9 =
        R"({"resourceType":"Observation","id":"o9","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"reference":"Patient/p9"},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
    const same_patients p9_is_b{{"Patient/p9", "2BB2BB2BB22"}};
    // The one piece of `text` planned with the link known, in `parts` parts.
    const auto replanned_into = [&](std::string_view text, std::size_t parts) {
      auto p = plan_route(text, tables(), route_settings{}, 1'796'040'000'000, p9_is_b);
      INFO(p.refusal);
      REQUIRE(p.pieces.size() == 1);
      REQUIRE(p.pieces[0].parts.size() == parts);
      return std::move(p.pieces[0]);
    };
    const auto ndjson = obs_p9 + "\n" + obs_b_odd_unit + "\n";
    split_into(ndjson, 2);  // not known: a part for each
    const auto whole = replanned_into(ndjson, 1);
    const auto& both = whole.parts[0];
    CHECK(both.patient_key == "2BB2BB2BB22");
    CHECK(both.patient_identity.empty());
    CHECK(both.payload == ndjson);  // the message as sent: read whole, as one server reads it
    CHECK(both.lines.empty());
    // With a third patient (A, named by reference and identified in the message) the message
    // is still split, p9's line in B's part, the sender's line numbers kept.
    const auto three =
        obs_p9 + "\n" + patient_a + "\n" + obs_b_odd_unit + "\n" + obs_by_reference + "\n";
    split_into(three, 3);
    const auto joined = replanned_into(three, 2);
    const auto& b = joined.parts[0];
    CHECK(b.patient_key == "2BB2BB2BB22");
    CHECK(b.lines == std::vector<std::uint32_t>{1, 3});
    CHECK(b.payload == obs_p9 + "\n" + obs_b_odd_unit + "\n");
    CHECK(joined.parts[1].patient_key == "1AA1AA1AA11");
    CHECK(joined.parts[1].lines == std::vector<std::uint32_t>{2, 4});
    CHECK(merged(joined) == worker_outcome(three));
    // A collection Bundle the same way: p9's entry in B's part.
    const auto bundle =
        bundle_of("collection", {entry(obs_p9), entry(patient_a), entry(obs_b_odd_unit)});
    split_into(bundle, 3);
    const auto joined_bundle = replanned_into(bundle, 2);
    CHECK(joined_bundle.parts[0].patient_key == "2BB2BB2BB22");
    CHECK(joined_bundle.parts[0].entries == std::vector<std::uint32_t>{0, 2});
    CHECK(merged(joined_bundle) == worker_outcome(bundle));
    // A transaction of B and p9, refused while p9 is unknown, goes whole to B once it is known.
    // The front learns what to ask the identity map from patients_named(): B's key and p9.
    const auto transaction = bundle_of("transaction", {entry(obs_p9), entry(obs_b_odd_unit)});
    CHECK_FALSE(plan(transaction).refusal.empty());
    const auto named = patients_named(transaction, tables(), route_settings{});
    CHECK(named.keys == std::set<std::string>{"2BB2BB2BB22"});
    CHECK(named.identities == std::set<std::string>{"Patient/p9"});
    CHECK(replanned_into(transaction, 1).parts[0].patient_key == "2BB2BB2BB22");
    // A Patient with local identifiers only, known linked, goes with its patient too.
    const std::string local_patient =
        R"({"resourceType":"Patient","id":"p9","identifier":[{"system":"urn:oid:1.2.3","value":"MRN-9"}]})";
    for (const auto& text :
         {local_patient + "\n" + obs_p9 + "\n" + obs_b_odd_unit + "\n",
          bundle_of("collection", {entry(local_patient), entry(obs_p9), entry(obs_b_odd_unit)})}) {
      split_into(text, 2);
      CHECK(replanned_into(text, 1).parts[0].patient_key == "2BB2BB2BB22");
    }
  }

  TEST_CASE("local identities the front knows are one patient go whole, by one of them") {
    // A transaction of two glucoses by reference to Patient/p8 and Patient/p9, and no
    // Medicare identifier: two patients to the planner, refused. The identity map links both
    // to one partition (two systems' ids of one patient): planned again with p9 as p8's alias,
    // it goes whole, routed by p8, which the map forwards there.
    const auto transaction =
        bundle_of("transaction", {entry(glucose_of("p8", "o8")), entry(glucose_of("p9", "o9"))});
    const auto refused = plan(transaction);
    CHECK(refused.pieces.empty());
    CHECK(refused.refusal.find("2 patients") != std::string::npos);
    const auto named = patients_named(transaction, tables(), route_settings{});
    CHECK(named.keys.empty());
    CHECK(named.identities == std::set<std::string>{"Patient/p8", "Patient/p9"});
    CHECK(named.keyless_patients.empty());
    const same_identities p9_is_p8{{"Patient/p9", "Patient/p8"}};
    const auto whole =
        plan_route(transaction, tables(), route_settings{}, 1'796'040'000'000, {}, p9_is_p8);
    INFO(whole.refusal);
    REQUIRE(whole.pieces.size() == 1);
    REQUIRE(whole.pieces[0].parts.size() == 1);
    const auto& part = whole.pieces[0].parts[0];
    CHECK(part.patient_key.empty());
    CHECK(part.patient_identity == "Patient/p8");
    CHECK(part.payload == transaction);  // the message as sent
    // A Patient with local identifiers only counts as an identity of its own: named, and
    // aliased the same way.
    const std::string local_patient =
        R"({"resourceType":"Patient","id":"p7","identifier":[{"system":"urn:oid:1.2.3","value":"MRN-7"}]})";
    const auto with_patient = bundle_of(
        "transaction",
        {entry(local_patient), entry(glucose_of("p8", "o8")), entry(glucose_of("p9", "o9"))});
    CHECK_FALSE(plan(with_patient).refusal.empty());
    const auto named_too = patients_named(with_patient, tables(), route_settings{});
    CHECK(named_too.keyless_patients == std::set<std::string>{"Patient/p7"});
    const same_identities all_are_p7{{"Patient/p8", "Patient/p7"}, {"Patient/p9", "Patient/p7"}};
    const auto one =
        plan_route(with_patient, tables(), route_settings{}, 1'796'040'000'000, {}, all_are_p7);
    INFO(one.refusal);
    REQUIRE(one.pieces.size() == 1);
    REQUIRE(one.pieces[0].parts.size() == 1);
    CHECK(one.pieces[0].parts[0].patient_identity == "Patient/p7");
    // An alias for only one of three identities leaves two patients: still refused.
    CHECK_FALSE(
        plan_route(with_patient, tables(), route_settings{}, 1'796'040'000'000, {}, p9_is_p8)
            .refusal.empty());
  }

  TEST_CASE("joins_of: an identity joins its keyed patient's part, or the first of its own") {
    using routes = identity_routes;
    const std::map<std::string, std::string, std::less<>> keyed{{"pk-b", "2BB2BB2BB22"}};
    // p1 is linked to B (a keyed part), p7, p8 and p9 to one patient no part names, p5 to
    // another, p6 to no one yet.
    const routes routed{{"Patient/p1", "pk-b"},       {"Patient/p5", "pk-e"},
                        {"Patient/p6", std::nullopt}, {"Patient/p7", "pk-c"},
                        {"Patient/p8", "pk-c"},       {"Patient/p9", "pk-c"}};
    const auto joins = joins_of(routed, keyed);
    CHECK(joins.linked == same_patients{{"Patient/p1", "2BB2BB2BB22"}});
    CHECK(joins.aliases ==
          same_identities{{"Patient/p8", "Patient/p7"}, {"Patient/p9", "Patient/p7"}});
    CHECK(joins.joined() == 3);
    // Nothing in common: nothing joins.
    const auto none = joins_of(
        routes{{"Patient/p5", "pk-e"}, {"Patient/p6", std::nullopt}, {"Patient/p7", "pk-c"}},
        keyed);
    CHECK(none.joined() == 0);
  }

  TEST_CASE("NDJSON lines of local identities that are one patient go as one part") {
    // Glucoses by reference to Patient/p8 and Patient/p9 on lines of their own: two parts,
    // two messages to one worker, while the front knows nothing of them. Once the identity
    // map links both to one patient (two systems' ids), planned again with p9 as p8's alias,
    // both lines go as one part, routed by p8, as one server reads them in one message.
    const same_identities p9_is_p8{{"Patient/p9", "Patient/p8"}};
    const auto replanned = [&](std::string_view text) {
      auto p = plan_route(text, tables(), route_settings{}, 1'796'040'000'000, {}, p9_is_p8);
      INFO(p.refusal);
      REQUIRE(p.pieces.size() == 1);
      return std::move(p.pieces[0]);
    };
    const auto two = glucose_of("p8", "o8") + "\n" + glucose_of("p9", "o9") + "\n";
    const auto first = split_into(two, 2);
    CHECK(first.parts[0].patient_identity == "Patient/p8");
    CHECK(first.parts[1].patient_identity == "Patient/p9");
    const auto whole = replanned(two);
    REQUIRE(whole.parts.size() == 1);
    CHECK(whole.parts[0].patient_identity == "Patient/p8");
    CHECK(whole.parts[0].patient_key.empty());
    CHECK(whole.parts[0].payload == two);  // the message as sent
    // Beside a keyed patient (A) the message is still split: p8's and p9's lines in one part,
    // the sender's line numbers kept, the merged answer one server's.
    const auto three = glucose_of("p8", "o8") + "\n" + patient_a + "\n" + glucose_of("p9", "o9") +
                       "\n" + obs_by_reference + "\n";
    split_into(three, 3);
    const auto joined = replanned(three);
    REQUIRE(joined.parts.size() == 2);
    CHECK(joined.parts[0].patient_identity == "Patient/p8");
    CHECK(joined.parts[0].lines == std::vector<std::uint32_t>{1, 3});
    CHECK(joined.parts[1].patient_key == "1AA1AA1AA11");
    CHECK(merged(joined) == worker_outcome(three));
    // A collection Bundle the same way, by entry.
    const auto bundle = bundle_of("collection", {entry(glucose_of("p8", "o8")), entry(patient_a),
                                                 entry(glucose_of("p9", "o9"))});
    split_into(bundle, 3);
    const auto joined_bundle = replanned(bundle);
    REQUIRE(joined_bundle.parts.size() == 2);
    CHECK(joined_bundle.parts[0].patient_identity == "Patient/p8");
    CHECK(joined_bundle.parts[0].entries == std::vector<std::uint32_t>{0, 2});
    CHECK(merged(joined_bundle) == worker_outcome(bundle));
  }

  TEST_CASE("a Bundle of one patient goes whole; a transaction of several is refused") {
    const std::vector<std::string> one{entry(patient_a), entry(obs_by_reference)};
    const auto whole = plan(bundle_of("collection", one));
    REQUIRE(whole.pieces.size() == 1);
    REQUIRE(whole.pieces[0].parts.size() == 1);
    CHECK(whole.pieces[0].parts[0].entries.empty());
    CHECK(whole.pieces[0].parts[0].payload == bundle_of("collection", one));
    const std::vector<std::string> two{entry(patient_a), entry(obs_by_reference),
                                       entry(obs_b_odd_unit)};
    for (const std::string type : {"transaction", "document"}) {
      const auto refused = plan(bundle_of(type, two));
      INFO(type);
      CHECK(refused.pieces.empty());
      CHECK(refused.refusal.find("a " + type + " Bundle holds facts of 2 patients") == 0);
    }
    // A message Bundle without its MessageHeader is the reader's to refuse: the front answers.
    const auto message = plan(bundle_of("message", two));
    REQUIRE(message.pieces.size() == 1);
    CHECK(message.pieces[0].local);
  }

  TEST_CASE("regression: an entry a part refers to goes with it, though it yields no fact") {
    // Found by the fuzzer: the Patient entry's resourceType is not one (no fact of its own),
    // yet the reader resolves the Observation's urn:uuid reference through it and takes the
    // patient's MBI from it. A part without that entry was refused by its worker.
    const std::string odd_patient =
        R"({"resourceTey":"Patient","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"1AA1AA1AA11"}]})";
    const std::string obs_a =
        R"({"resourceType":"Observation","id":"g1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"reference":"urn:uuid:6f1e1b7a-0c1d-4d52-9f4c-2a1c1f0e7b11"},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
    const std::vector<std::string> entries{
        entry(odd_patient, "urn:uuid:6f1e1b7a-0c1d-4d52-9f4c-2a1c1f0e7b11"), entry(obs_a),
        entry(obs_b_odd_unit)};
    const auto text = bundle_of("collection", entries);
    const auto piece = split_into(text, 2);
    CHECK(piece.parts[0].patient_key == "1AA1AA1AA11");
    CHECK(piece.parts[0].entries == std::vector<std::uint32_t>{0, 1});
    CHECK(piece.parts[0].payload == bundle_of("collection", {entries[0], entries[1]}));
    const auto again = plan(piece.parts[0].payload);  // the worker's read: still A's alone
    REQUIRE(again.pieces.size() == 1);
    REQUIRE(again.pieces[0].parts.size() == 1);
    CHECK(again.pieces[0].parts[0].patient_key == "1AA1AA1AA11");
    CHECK(piece.own_outcome.empty());  // entry 0's issue is its worker's to say
    CHECK(merged(piece) == worker_outcome(text));
  }

  TEST_CASE("regression: a split Bundle's entries are the sender's bytes, however deep") {
    // Found in review: the entries were parsed recursively and written back from the DOM, so a
    // deeply nested element crashed the front, and numbers came back rewritten (6.10 as 6.1).
    std::string deep = R"({"resourceType":"Practitioner","id":"dr9","extension":)";
    for (int i = 0; i < 100'000; ++i) deep += '[';
    for (int i = 0; i < 100'000; ++i) deep += ']';
    deep += "}";
    std::string obs_a_exact = obs_by_reference;
    obs_a_exact.replace(obs_a_exact.find("6.1,"), 4, "6.10,");
    const std::vector<std::string> entries{entry(patient_a), entry(obs_a_exact),
                                           entry(obs_b_odd_unit), entry(deep)};
    const auto text = bundle_of("collection", entries);
    const auto piece = split_into(text, 2);
    CHECK(piece.parts[0].payload.find(R"("value":6.10,)") != std::string::npos);
    // The deep Practitioner is reference data: every part carries it, byte for byte.
    for (const auto& part : piece.parts) {
      CHECK(part.payload.find(entry(deep)) != std::string::npos);
    }
  }

  TEST_CASE("patients_named: the keys and local identities a message names, or nothing") {
    const auto named = [](std::string_view text) {
      return patients_named(text, tables(), route_settings{});
    };
    // HL7 v2: the patient of PID-3's Medicare identifier; NDJSON: every line's patients.
    const auto labs =
        named(test::sample("scenarios-hl7v2/02-csii-release-after-late-lab/3-late-labs.hl7"));
    CHECK(labs.keys == std::set<std::string>{"2AA2AA2AA02"});
    CHECK(labs.identities.empty());
    const std::string by_reference =
        R"({"resourceType":"Observation","id":"o7","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"reference":"Patient/p7"},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
    const auto lines = named(by_reference + "\n" + obs_b_odd_unit + "\n");
    CHECK(lines.keys == std::set<std::string>{"2BB2BB2BB22"});
    CHECK(lines.identities == std::set<std::string>{"Patient/p7"});
    // Nothing for X12, a reference-data message, or FHIR that cannot be read.
    const auto claims = named(test::sample("x12/01-insulin-pump-837p.x12"));
    CHECK(claims.keys.empty());
    CHECK(claims.identities.empty());
    CHECK(named(practitioner_line).keys.empty());
    CHECK(named("{\"resourceType\":\"Observation\"").keys.empty());
  }

  TEST_CASE("regression: an entry of no fact two later parts refer to is reported once") {
    // Found in review: the merge took part 0's answer for every shared entry, but an entry of
    // no fact is carried only by the parts that refer to it, so its issue was lost.
    const std::string unread =
        R"({"resourceType":"Observation","id":"g9","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":70}})";
    const auto derived = [](std::string obs) {
      return obs.insert(obs.size() - 1, R"(,"derivedFrom":[{"reference":"Observation/g9"}])");
    };
    const std::string obs_c =
        R"({"resourceType":"Observation","id":"g3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"identifier":{"system":"http://hl7.org/fhir/sid/us-mbi","value":"3CC3CC3CC33"}},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
    const std::vector<std::string> entries{entry(patient_a), entry(obs_by_reference), entry(unread),
                                           entry(derived(obs_b_odd_unit)), entry(derived(obs_c))};
    const auto text = bundle_of("collection", entries);
    const auto piece = split_into(text, 3);
    CHECK(piece.parts[0].entries == std::vector<std::uint32_t>{0, 1});
    CHECK(piece.parts[1].entries == std::vector<std::uint32_t>{2, 3});
    CHECK(piece.parts[2].entries == std::vector<std::uint32_t>{2, 4});
    const auto whole = worker_outcome(text);
    CHECK(whole.find("Bundle.entry[2]") != std::string::npos);
    CHECK(merged(piece) == whole);
  }

  TEST_CASE("a Bundle with two entries of one fullUrl is not split") {
    const std::vector<std::string> entries{
        entry(patient_a, "urn:uuid:6f1e1b7a-0c1d-4d52-9f4c-2a1c1f0e7b11"),
        entry(obs_by_reference, "urn:uuid:6f1e1b7a-0c1d-4d52-9f4c-2a1c1f0e7b11"),
        entry(obs_b_odd_unit)};
    const auto p = plan(bundle_of("collection", entries));
    CHECK(p.pieces.empty());
    CHECK(p.refusal.find("2 patients") != std::string::npos);
  }

  TEST_CASE("an XML Bundle of several patients is split the same way, in XML") {
    const std::string head = R"(<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>)";
    const std::string patient =
        R"(<entry><resource><Patient><id value="pa"/><identifier><system value="http://hl7.org/fhir/sid/us-mbi"/><value value="1AA1AA1AA11"/></identifier></Patient></resource></entry>)";
    const auto glucose = [](const std::string& id, const std::string& subject,
                            const std::string& unit) {
      return R"(<entry><resource><Observation><id value=")" + id +
             R"("/><status value="final"/><code><coding><system value="http://loinc.org"/><code value="1558-6"/></coding></code><subject>)" +
             subject +
             R"(</subject><effectiveDateTime value="2026-01-16T07:40:00Z"/><valueQuantity><value value="6.1"/><unit value=")" +
             unit + R"("/><system value="http://unitsofmeasure.org"/><code value=")" +
             (unit == "mmol/L" ? unit : "[fur_us]") +
             R"("/></valueQuantity></Observation></resource></entry>)";
    };
    const auto a_glucose = glucose("g1", R"(<reference value="Patient/pa"/>)", "mmol/L");
    const auto b_glucose = glucose(
        "g2",
        R"(<identifier><system value="http://hl7.org/fhir/sid/us-mbi"/><value value="2BB2BB2BB22"/></identifier>)",
        "furlongs");
    const auto text = head + patient + a_glucose + b_glucose + "</Bundle>";
    const auto piece = split_into(text, 2);
    CHECK(piece.parts[0].entries == std::vector<std::uint32_t>{0, 1});
    CHECK(piece.parts[0].payload == head + patient + a_glucose + "</Bundle>");
    CHECK(piece.parts[1].entries == std::vector<std::uint32_t>{2});
    CHECK(piece.parts[1].payload == head + b_glucose + "</Bundle>");
    const auto whole = worker_outcome(text);
    CHECK(whole.find("Bundle.entry[2]") != std::string::npos);  // B's odd unit
    CHECK(merged(piece) == whole);
  }

  TEST_CASE("a Bundle merge renumbers only entry paths and refuses an entry the part lacks") {
    routed_part part;
    part.entries = {4, 9};
    const std::string outcome =
        R"({"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"value","diagnostics":"odd","expression":["Bundle.entry[1].resource.valueQuantity"]},{"severity":"information","code":"informational","diagnostics":"about the Bundle","expression":["Bundle.type"]}]})";
    const auto merged_text = merge_bundle_outcomes({&part, &part}, {outcome, outcome});
    CHECK(
        merged_text ==
        R"({"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational","diagnostics":"about the Bundle","expression":["Bundle.type"]},{"severity":"warning","code":"value","diagnostics":"odd","expression":["Bundle.entry[9].resource.valueQuantity"]},{"severity":"warning","code":"value","diagnostics":"odd","expression":["Bundle.entry[9].resource.valueQuantity"]}]})");
    const std::string past =
        R"({"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"value","diagnostics":"odd","expression":["Bundle.entry[2]"]}]})";
    CHECK_THROWS_AS((void)merge_bundle_outcomes({&part}, {past}), std::invalid_argument);
    CHECK_THROWS_AS((void)merge_bundle_outcomes({&part}, {"{}"}), std::invalid_argument);
  }

  TEST_CASE("a merge refuses what is not an OperationOutcome or names a line the part lacks") {
    routed_part part;
    part.lines = {4, 9};
    CHECK_THROWS_AS((void)merge_ndjson_outcomes({&part}, {"{}"}), std::invalid_argument);
    CHECK_THROWS_AS(
        (void)merge_ndjson_outcomes(
            {&part},
            {R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"x","diagnostics":"line 3: no"}]})"}),
        std::invalid_argument);
    CHECK(
        merge_ndjson_outcomes(
            {&part},
            {R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"x","diagnostics":"line 2: no"}]})"}) ==
        R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"x","diagnostics":"line 9: no"}]})");
  }
}
