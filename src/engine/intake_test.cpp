#include "covgate/engine/intake.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <set>

#include "covgate/model/claim_key.hpp"
#include "covgate/model/decision_json.hpp"
#include "covgate/store/memory_state.hpp"
#include "support/gate_fixtures.hpp"
#include "support/samples.hpp"
#include "support/thread_per_work.hpp"

using namespace covgate;
using test::sample;

namespace {

// Every answer of an input, by kind.
struct collected final : engine::answer_sink {
  std::string x12_text, fhir_text, hl7_text;
  std::vector<engine::event> first, later;
  std::vector<std::string> findings;
  int messages = 0;
  void x12(std::string_view t) override { x12_text += t; }
  void fhir(std::string_view t) override { fhir_text += t; }
  void hl7v2(std::string_view t) override { hl7_text += t; }
  void on_event(const engine::event& e, bool is_later) override {
    (is_later ? later : first).push_back(e);
  }
  void finding(std::string_view line) override { findings.emplace_back(line); }
  void message_end() override { ++messages; }
};

struct fixture {
  store::memory_state state;
  engine::intake intake{test::shipped_ncd223(), test::shipped_tables(), state, {}};
  engine::message_time at{1'795'780'800'000};  // 2026-11-27 12:00 UTC

  std::pair<engine::input_result, collected> receive(std::string_view message,
                                                     std::string source = "test") {
    collected out;
    const auto r = intake.receive(message, std::move(source), at, out);
    return {r, std::move(out)};
  }
};

// What named inputs came to through one intake over a fresh state, each fed in chunks of
// `chunk` bytes, read on the caller's thread (read_ahead 0) or ahead on lent threads.
struct replayed {
  collected out;
  std::vector<engine::input_result> results;
  engine::statistics summary;
  std::size_t lent = 0;  // pieces of work the pool ran
  // The state's record of each claim answered first, as loaded back: read ahead, a memory
  // state takes each claim as the reader's thread encoded it (state::keeps_encoded_claims).
  std::vector<engine::claim_record> stored;
};

using named_inputs = std::vector<std::pair<std::string, std::string>>;

// How replay() hands each chunk to its input.
enum class handing { copied, given };

replayed replay(const named_inputs& inputs, engine::intake_settings settings, unsigned read_ahead,
                std::size_t chunk, handing how = handing::copied) {
  store::memory_state state;
  test::thread_per_work pool;  // outlives the intake, which borrows it
  settings.read_ahead = read_ahead;
  settings.read_pool = &pool;
  engine::intake intake{test::shipped_ncd223(), test::shipped_tables(), state, settings};
  replayed r;
  for (const auto& [name, text] : inputs) {
    auto input = intake.open(name, {1'795'780'800'000}, r.out);
    std::string buffer;
    for (std::size_t i = 0; i < text.size(); i += chunk) {
      if (how == handing::copied) {
        input->put(text.substr(i, chunk));
        continue;
      }
      buffer.assign(text, i, chunk);
      input->put_buffer(buffer);
      // Whatever buffer came back is the caller's: written over at once, as the next read
      // would, it must not be one a reader is still reading.
      buffer.assign(buffer.capacity(), '#');
    }
    r.results.push_back(input->finish());
  }
  r.summary = intake.summary();
  r.lent = pool.threads.size();
  for (const auto& e : r.out.first) {
    if (auto record = state.load(model::claim_key(e.claim()))) r.stored.push_back(*record);
  }
  return r;
}

std::string decision_lines(const std::vector<engine::event>& events) {
  std::string lines;
  for (const auto& e : events) {
    model::append_json(lines, e.decision, e.claim().billing.npi, engine::name(e.kind), e.source);
    lines += '\n';
  }
  return lines;
}

// Read ahead or not, the same answers, findings, events, input results and state.
void check_same(const replayed& ahead, const replayed& one) {
  CHECK(ahead.out.x12_text == one.out.x12_text);
  CHECK(ahead.out.fhir_text == one.out.fhir_text);
  CHECK(ahead.out.findings == one.out.findings);
  CHECK(ahead.out.messages == one.out.messages);
  CHECK(decision_lines(ahead.out.first) == decision_lines(one.out.first));
  CHECK(decision_lines(ahead.out.later) == decision_lines(one.out.later));
  REQUIRE(ahead.results.size() == one.results.size());
  for (std::size_t i = 0; i < one.results.size(); ++i) {
    CAPTURE(i);
    CHECK(ahead.results[i].facts == one.results[i].facts);
    CHECK(ahead.results[i].claims == one.results[i].claims);
    CHECK(ahead.results[i].rejected == one.results[i].rejected);
    CHECK(ahead.results[i].repeated_interchanges == one.results[i].repeated_interchanges);
  }
  CHECK(ahead.summary.facts == one.summary.facts);
  CHECK(ahead.summary.by_outcome == one.summary.by_outcome);
  CHECK(ahead.summary.by_reason == one.summary.by_reason);
  REQUIRE(ahead.stored.size() == one.stored.size());
  for (std::size_t i = 0; i < one.stored.size(); ++i) {
    CAPTURE(i);
    CHECK(ahead.stored[i].claim == one.stored[i].claim);
    CHECK(ahead.stored[i].decision.result == one.stored[i].decision.result);
    CHECK(ahead.stored[i].source == one.stored[i].source);
  }
}

// The ISA13s of every interchange in `text`.
std::vector<std::string> controls(const std::string& text) {
  std::vector<std::string> out;
  for (auto at = text.find("ISA*"); at != std::string::npos; at = text.find("ISA*", at + 1)) {
    out.push_back(text.substr(at + 90, 9));
  }
  return out;
}

}  // namespace

TEST_SUITE("engine.intake") {
  TEST_CASE("sniffs X12, FHIR, HL7 v2, MLLP recordings and anything else") {
    CHECK(engine::sniff("\xEF\xBB\xBF  ISA*00*") == engine::payload_kind::x12);
    CHECK(engine::sniff("\r\nMSH|^~\\&|A") == engine::payload_kind::hl7v2);
    CHECK(engine::sniff("BHS|^~\\&|A") == engine::payload_kind::hl7v2);
    CHECK(engine::sniff(" {\"resourceType\":\"Patient\"}") == engine::payload_kind::fhir);
    CHECK(engine::sniff("<Patient xmlns=\"http://hl7.org/fhir\"/>") == engine::payload_kind::fhir);
    CHECK(engine::sniff("\x0BMSH|^~\\&|") == engine::payload_kind::mllp);
    CHECK(engine::sniff("GS*HC*SENDER") == engine::payload_kind::x12);
    CHECK(engine::sniff("STATUS report") == engine::payload_kind::unknown);
    CHECK(engine::sniff("hello") == engine::payload_kind::unknown);
    CHECK(engine::sniff("SQLite format 3") == engine::payload_kind::unknown);
    CHECK(engine::sniff("") == engine::payload_kind::unknown);
    // Three bytes after a BOM and blanks decide; fewer wait for more (a stream's first bytes).
    CHECK(engine::enough_to_sniff("ISA"));
    CHECK(engine::enough_to_sniff("\xEF\xBB\xBF \r\nGS*"));
    CHECK_FALSE(engine::enough_to_sniff("IS"));
    CHECK_FALSE(engine::enough_to_sniff("\xEF\xBB\xBF  \n{\""));
    CHECK_FALSE(engine::enough_to_sniff(""));
  }

  TEST_CASE("each standard's answers have their media type") {
    CHECK(engine::answer_media_type(engine::payload_kind::x12) == "application/edi-x12");
    CHECK(engine::answer_media_type(engine::payload_kind::fhir) == "application/fhir+json");
    CHECK(engine::answer_media_type(engine::payload_kind::hl7v2) == "x-application/hl7-v2+er7");
    CHECK(engine::answer_media_type(engine::payload_kind::unknown) == "text/plain");
  }

  TEST_CASE("a held claim is answered with a 277; its late lab releases it as a later event") {
    fixture f;
    const auto dir = std::string("scenarios/02-csii-release-after-late-lab/");
    const auto [record, record_out] = f.receive(sample(dir + "1-record.json"));
    CHECK_FALSE(record.rejected);
    CHECK(record_out.later.empty());
    const auto [claim, claim_out] = f.receive(sample(dir + "2-claim.x12"));
    CHECK(claim.kind == engine::payload_kind::x12);
    CHECK_FALSE(claim.rejected);
    CHECK(claim.claims == 1);
    REQUIRE(claim_out.first.size() == 1);
    CHECK(claim_out.x12_text.find("ST*277*") != std::string::npos);
    CHECK(claim_out.x12_text.find("TRN*2*CSII-LATE") != std::string::npos);
    CHECK(claim_out.x12_text.find("STC*P") != std::string::npos);  // a hold (pended)
    const auto [labs, labs_out] = f.receive(sample(dir + "3-late-labs.json"));
    CHECK(labs_out.fhir_text.find("\"resourceType\":\"OperationOutcome\"") != std::string::npos);
    REQUIRE(labs_out.later.size() == 1);
    CHECK(labs_out.later[0].kind == engine::event_kind::release);
    const auto release = f.intake.status_message(labs_out.later, f.at);
    CHECK(release.find("STC*A2:20") != std::string::npos);
    CHECK(release.find("REF*1K*CSII-LATE-2") != std::string::npos);
  }

  TEST_CASE("an interchange sent again in a later message is answered as before, not re-run") {
    fixture f;
    const auto claim = sample("scenarios/02-csii-release-after-late-lab/2-claim.x12");
    const auto [first, first_out] = f.receive(claim);
    REQUIRE(first.claims == 1);
    // Claims are keyed by CLM01 and billing NPI (the sample's 2010AA NM109).
    const auto late = model::claim_key("CSII-LATE", "1999999984");
    REQUIRE(f.state.load(late));
    const auto events = f.state.load(late)->events;
    const auto [again, again_out] = f.receive("\r\n" + claim + "\r\n");
    CHECK(again_out.x12_text == first_out.x12_text);  // byte for byte: the same 277
    CHECK(again.claims == 1);
    CHECK(again.repeated_interchanges == 1);
    CHECK_FALSE(again.rejected);
    REQUIRE(f.state.load(late));
    CHECK(f.state.load(late)->events == events);  // nothing processed twice

    SUBCASE("the same control number on different content is refused with TA1 025") {
      auto other = claim;
      other.replace(other.find("CSII-LATE"), 9, "CSII-OTHR");
      const auto [reused, reused_out] = f.receive(other);
      CHECK(reused.rejected);
      CHECK(reused.claims == 0);
      CHECK(reused_out.x12_text.find("*R*025~") != std::string::npos);
      CHECK_FALSE(f.state.load(model::claim_key("CSII-OTHR", "1999999984")));
    }
  }

  TEST_CASE("an interchange's answer is remembered up to max_remembered_answer bytes, not past") {
    // An interchange of several sets: its answer is written set by set and remembered whole.
    const auto claims = sample("x12/01-insulin-pump-837p.x12");
    store::memory_state probe_state;
    engine::intake probe{test::shipped_ncd223(), test::shipped_tables(), probe_state, {}};
    collected first;
    REQUIRE_FALSE(probe.receive(claims, "first", {0}, first).rejected);
    const auto answer_size = first.x12_text.size();
    REQUIRE(answer_size > 0);

    for (const auto limit : {answer_size, answer_size - 1}) {
      CAPTURE(limit);
      store::memory_state state;
      engine::intake_settings settings;
      settings.max_remembered_answer = limit;
      engine::intake intake{test::shipped_ncd223(), test::shipped_tables(), state, settings};
      collected a, b;
      REQUIRE_FALSE(intake.receive(claims, "first", {0}, a).rejected);
      REQUIRE(a.x12_text == first.x12_text);
      const auto again = intake.receive(claims, "retry", {0}, b);
      if (limit == answer_size) {
        CHECK(b.x12_text == a.x12_text);  // at the limit: answered again byte for byte
        CHECK(again.repeated_interchanges == 1);
      } else {
        // One byte past it nothing was kept: the repeat is refused as a duplicate (TA1 025)
        // rather than answered from a truncated copy.
        CHECK(again.rejected);
        CHECK(b.x12_text.find("*R*025~") != std::string::npos);
      }
    }
  }

  // The sample 837P's interchange with control number `control` and `sets` copies of its
  // transaction set (claims PUMP001, PUMP002…); the set numbered `broken` (from 1) has a wrong
  // segment count, so it is refused and the interchange answered with a 999 besides.
  std::string interchange_of_sets(const std::string& sample_837, std::string_view control, int sets,
                                  int broken = 0) {
    const auto set_start = sample_837.find("ST*837*");
    const auto trailer = sample_837.find("GE*");
    REQUIRE(set_start != std::string::npos);
    REQUIRE(trailer != std::string::npos);
    auto head = sample_837.substr(0, set_start);
    head.replace(head.find("*000000301*"), 11, "*" + std::string(control) + "*");
    const auto set = sample_837.substr(set_start, trailer - set_start);
    std::string text = head;
    for (int n = 1; n <= sets; ++n) {
      char number[8];
      std::snprintf(number, sizeof number, "%04d", n);
      auto copy = set;
      copy.replace(copy.find("ST*837*0001"), 11, std::string("ST*837*") + number);
      copy.replace(copy.find("SE*30*0001"), 10,
                   std::string(n == broken ? "SE*29*" : "SE*30*") + number);
      char claim[8];
      std::snprintf(claim, sizeof claim, "%03d", n);
      copy.replace(copy.find("CLM*PUMP001"), 11, std::string("CLM*PUMP") + claim);
      text += copy;
    }
    return text + "GE*" + std::to_string(sets) + "*42~\nIEA*1*" + std::string(control) + "~\n";
  }

  TEST_CASE("each interchange of an input is remembered by its own answer's size") {
    // One input, two interchanges: the first's answer (six sets' 277s) passes
    // max_remembered_answer, the second's (one set's) is at it. The first is not remembered;
    // the second is, byte for byte, though its 277 was written where the first's were.
    const auto one = sample("x12/01-insulin-pump-837p.x12");
    const auto big = interchange_of_sets(one, "000000401", 6);
    const auto small = interchange_of_sets(one, "000000402", 1);
    store::memory_state probe_state;
    engine::intake probe{test::shipped_ncd223(), test::shipped_tables(), probe_state, {}};
    collected both;
    REQUIRE_FALSE(probe.receive(big + small, "both", {0}, both).rejected);
    const auto small_answer = both.x12_text.substr(both.x12_text.rfind("ISA*"));
    REQUIRE(small_answer.size() * 5 < both.x12_text.size());

    store::memory_state state;
    engine::intake_settings settings;
    settings.max_remembered_answer = small_answer.size();
    engine::intake intake{test::shipped_ncd223(), test::shipped_tables(), state, settings};
    collected a, b, c;
    REQUIRE_FALSE(intake.receive(big + small, "first", {0}, a).rejected);
    REQUIRE(a.x12_text.size() == both.x12_text.size());
    const auto small_again = intake.receive(small, "retry", {0}, b);
    CHECK(small_again.repeated_interchanges == 1);
    CHECK(b.x12_text == a.x12_text.substr(a.x12_text.rfind("ISA*")));
    const auto big_again = intake.receive(big, "retry", {0}, c);
    CHECK(big_again.rejected);  // not remembered: refused as a duplicate (TA1 025)
    CHECK(c.x12_text.find("*R*025~") != std::string::npos);
  }

  TEST_CASE("an interchange answered with 277s and a 999 is answered again with both") {
    // The 999 is kept after the 277s written before it, over the room their writer left.
    const auto one = sample("x12/01-insulin-pump-837p.x12");
    const auto mixed = interchange_of_sets(one, "000000403", 3, 2);
    fixture f;
    const auto [first, first_out] = f.receive(mixed);
    REQUIRE(first.claims == 2);
    REQUIRE(first_out.x12_text.find("ST*999*") != std::string::npos);
    REQUIRE(first_out.x12_text.find("ST*999*") > first_out.x12_text.rfind("ST*277*"));
    const auto [again, again_out] = f.receive(mixed, "retry");
    CHECK(again.repeated_interchanges == 1);
    CHECK(again_out.x12_text == first_out.x12_text);
  }

  TEST_CASE("with duplicates set to reject, a retried interchange gets TA1 025") {
    store::memory_state state;
    engine::intake_settings settings;
    settings.duplicates = engine::duplicate_interchanges::reject;
    engine::intake intake{test::shipped_ncd223(), test::shipped_tables(), state, settings};
    const auto claim = sample("x12/01-insulin-pump-837p.x12");
    collected a, b;
    CHECK_FALSE(intake.receive(claim, "first", {0}, a).rejected);
    CHECK(intake.receive(claim, "retry", {0}, b).rejected);
    CHECK(b.x12_text.find("*R*025~") != std::string::npos);
  }

  TEST_CASE("a refused interchange is not remembered: corrected, it may come again") {
    fixture f;
    const auto claim = sample("x12/01-insulin-pump-837p.x12");
    auto broken = claim;
    broken.replace(broken.find("*00501*"), 7, "*00401*");  // ISA12: refused at the envelope
    const auto [refused, refused_out] = f.receive(broken);
    CHECK(refused.rejected);
    CHECK(refused.claims == 0);
    const auto [corrected, corrected_out] = f.receive(claim);
    CHECK_FALSE(corrected.rejected);
    CHECK(corrected.claims > 0);
    CHECK(corrected.repeated_interchanges == 0);
  }

  TEST_CASE("regression: every 277 and acknowledgment has its own ISA13, across inputs") {
    fixture f;
    std::vector<std::string> all;
    for (const char* file : {"x12/04-wrong-segment-count.x12", "x12/04-wrong-segment-count.x12",
                             "x12/01-insulin-pump-837p.x12"}) {
      // The refused file twice: a refused interchange is not remembered, so it is read again.
      const auto [r, out] = f.receive(sample(file), file);
      for (auto& c : controls(out.x12_text)) all.push_back(c);
    }
    CHECK(all.size() >= 3);
    CHECK(std::set<std::string>(all.begin(), all.end()).size() == all.size());
    CHECK(f.state.counter("control", 1) == static_cast<std::int64_t>(all.size()) + 1);
  }

  TEST_CASE("regression: garbage after an ISA gets one TA1 per interchange, each its own ISA13") {
    fixture f;
    const auto [r, out] = f.receive("ISA*garbage~ISA*more garbage~");
    CHECK(r.rejected);
    const auto c = controls(out.x12_text);
    CHECK(std::set<std::string>(c.begin(), c.end()).size() == c.size());
  }

  TEST_CASE("regression: a test interchange (ISA15 T) is answered in a test interchange") {
    fixture f;
    auto claim = sample("scenarios/02-csii-release-after-late-lab/2-claim.x12");
    const auto isa15 = claim.find("*0*P*");
    REQUIRE(isa15 != std::string::npos);
    claim[isa15 + 3] = 'T';
    const auto [r, out] = f.receive(claim);
    REQUIRE(r.claims == 1);
    CHECK(out.x12_text.find("*0*T*") != std::string::npos);
    CHECK(out.x12_text.find("*0*P*") == std::string::npos);
  }

  TEST_CASE("events of production and test claims are answered in two whole interchanges") {
    // One 277 per ISA15 usage, the test claims' after the production claims', each with its
    // own envelope, in one answer.
    fixture f;
    const auto claim = sample("scenarios/02-csii-release-after-late-lab/2-claim.x12");
    auto test_claim = claim;
    test_claim.replace(test_claim.find("*0*P*"), 5, "*0*T*");
    for (auto at = test_claim.find("000000502"); at != std::string::npos;
         at = test_claim.find("000000502", at)) {
      test_claim.replace(at, 9, "000000503");
    }
    test_claim.replace(test_claim.find("CLM*CSII-LATE"), 13, "CLM*CSII-TEST");
    const auto [p, p_out] = f.receive(claim);
    const auto [t, t_out] = f.receive(test_claim);
    REQUIRE(p_out.first.size() == 1);
    REQUIRE(t_out.first.size() == 1);
    // Test first in the events: production still answered first.
    const auto text = f.intake.status_message({t_out.first[0], p_out.first[0]}, f.at);
    INFO(text);
    const auto second = text.find("ISA*", 1);
    REQUIRE(text.rfind("ISA*", 0) == 0);
    REQUIRE(second != std::string::npos);
    CHECK(text.find("ISA*", second + 1) == std::string::npos);
    const auto production = text.substr(0, second), test = text.substr(second);
    CHECK(production.find("*0*P*") != std::string::npos);
    CHECK(production.find("TRN*2*CSII-LATE") != std::string::npos);
    CHECK(production.find("TRN*2*CSII-TEST") == std::string::npos);
    CHECK(test.find("*0*T*") != std::string::npos);
    CHECK(test.find("TRN*2*CSII-TEST") != std::string::npos);
    CHECK(test.find("TRN*2*CSII-LATE") == std::string::npos);
    for (const auto& interchange : {production, test}) {
      // Whole: its IEA, the last segment, closes it with its own ISA13.
      const auto isa13 = interchange.substr(90, 9);
      CHECK(interchange.find("IEA*1*") == interchange.rfind("IEA*1*"));
      CHECK(interchange.ends_with("IEA*1*" + isa13 + "~\n"));
    }
  }

  TEST_CASE("anything that is not X12, FHIR or HL7 v2 is reported as unrecognized, never a TA1") {
    fixture f;
    const auto [r, out] = f.receive("SQLite format 3\0 garbage", "covgate.db");
    CHECK(r.unrecognized);
    CHECK(out.x12_text.empty());
    REQUIRE(out.findings.size() == 1);
    CHECK(out.findings[0].find("covgate.db: not X12") == 0);
  }

  TEST_CASE("HL7 v2: a late ORU releases a held claim; each message gets its ACK") {
    fixture f;
    const std::string v2 = "scenarios-hl7v2/02-csii-release-after-late-lab/";
    const auto [record, record_out] = f.receive(sample(v2 + "1-record.hl7"), "record.hl7");
    CHECK(record.kind == engine::payload_kind::hl7v2);
    CHECK_FALSE(record.rejected);
    CHECK(record.facts > 0);
    CHECK(record_out.hl7_text.find("MSA|AA|") != std::string::npos);
    const auto [claim, claim_out] =
        f.receive(sample("scenarios/02-csii-release-after-late-lab/2-claim.x12"));
    CHECK(claim_out.x12_text.find("STC*P3") != std::string::npos);
    const auto [labs, labs_out] = f.receive(sample(v2 + "3-late-labs.hl7"), "labs.hl7");
    CHECK(labs_out.hl7_text.find("MSA|AA|") != std::string::npos);
    REQUIRE(labs_out.later.size() == 1);
    CHECK(labs_out.later[0].kind == engine::event_kind::release);
    CHECK(labs_out.later[0].source.find("labs.hl7:") == 0);

    SUBCASE("regression: a reused MSH-10 on other content is refused, not answered as before") {
      auto other = sample(v2 + "3-late-labs.hl7");
      other.replace(other.find("|0.2|"), 5, "|0.3|");
      const auto [reused, reused_out] = f.receive(other, "reused.hl7");
      CHECK(reused.rejected);
      CHECK(reused.repeated_interchanges == 0);
      CHECK(reused_out.hl7_text.find("MSA|AR|") != std::string::npos);
      CHECK(reused_out.hl7_text.find("207^") != std::string::npos);
    }

    SUBCASE("the same message again is answered as before and not processed twice") {
      const auto [again, again_out] = f.receive(sample(v2 + "3-late-labs.hl7"), "again.hl7");
      CHECK(again.repeated_interchanges == 1);
      CHECK(again_out.hl7_text == labs_out.hl7_text);
      CHECK(again_out.later.empty());
    }
  }

  TEST_CASE("HL7 v2 that cannot be read is answered AR, and a file of messages ACK by ACK") {
    fixture f;
    const auto [r, out] = f.receive(
        "MSH|^~\\&|EPIC|HOSP|COVGATE|GATE|202611271200||ADT^A01|M1|"
        "P|2.5.1\rPID|1\r",
        "v2");
    CHECK(r.rejected);
    CHECK(out.hl7_text.find("MSA|AE|M1\r") != std::string::npos);  // PID-3 missing
    CHECK(out.hl7_text.find("ERR||PID^1^3|101^") != std::string::npos);
    const auto two = std::string("MSH|^~\\&|A|B|C|D|20261127||ADT^A01|M2|P|2.5.1\rPID|1\r") +
                     "MSH|^~\\&|A|B|C|D|20261127||ADT^A40|M3|P|2.5.1\rPID|1\r";
    collected batch;
    auto input = f.intake.open("two.hl7", f.at, batch);
    input->put(two);
    (void)input->finish();
    CHECK(batch.messages == 2);
    CHECK(batch.hl7_text.find("MSA|AE|M2") != std::string::npos);
    CHECK(batch.hl7_text.find("MSA|AR|M3") != std::string::npos);  // merges wait: refused
  }

  TEST_CASE("bad FHIR gets an OperationOutcome with an error and changes nothing") {
    fixture f;
    const auto [r, out] = f.receive("{\"resourceType\":\"Observation\",");
    CHECK(r.rejected);
    CHECK(out.fhir_text.find("\"severity\":\"fatal\"") != std::string::npos);
    CHECK(out.later.empty());
  }

  TEST_CASE("a recording of MLLP frames is read frame by frame, each frame its own message") {
    fixture f;
    const auto dir = std::string("scenarios/02-csii-release-after-late-lab/");
    const auto frame = [](const std::string& payload) { return "\x0B" + payload + "\x1C\r"; };
    const auto recording = frame(sample(dir + "1-record.json")) + "\r\n" +
                           frame(sample(dir + "2-claim.x12")) +
                           frame(sample(dir + "3-late-labs.json"));
    collected out;
    auto input = f.intake.open("capture.mllp", f.at, out);
    for (std::size_t i = 0; i < recording.size(); i += 7) input->put(recording.substr(i, 7));
    const auto r = input->finish();
    CHECK(r.kind == engine::payload_kind::mllp);
    CHECK_FALSE(r.rejected);
    CHECK(r.claims == 1);
    CHECK(out.findings.empty());  // no spurious TA1 024 note about the frame bytes
    REQUIRE(out.later.size() == 1);
    CHECK(out.later[0].kind == engine::event_kind::release);
    CHECK(out.later[0].source.find("capture.mllp#3:") == 0);
  }

  TEST_CASE("NDJSON larger than a read streams in batches of whole lines") {
    fixture f;
    std::string lines;
    for (int i = 0; i < 3000; ++i) {
      lines += R"({"resourceType":"Patient","id":"p)" + std::to_string(i) +
               R"(","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"1EG4TE5MK)" +
               std::to_string(10 + i % 80) + "\"}]}\n";
    }
    lines += "{not json}\n";
    collected out;
    auto input = f.intake.open("big.ndjson", f.at, out);
    for (std::size_t i = 0; i < lines.size(); i += 4096) input->put(lines.substr(i, 4096));
    const auto r = input->finish();
    CHECK(r.facts == 3000);
    CHECK(r.rejected);        // the last line
    CHECK(out.messages > 1);  // several batches, each answered
    bool named = false;
    for (const auto& line : out.findings)
      named = named || line.find("line 3001") != std::string::npos;
    CHECK(named);
  }

  TEST_CASE("NDJSON read ahead on other threads answers, decides and keeps what one thread does") {
    // The sample day (records, claims, late records: holds and later releases) fed in 16 KiB
    // chunks, then records with a bad line and a line over the size limit among them: every
    // answer, finding and event in the same order, and the same state after, with the
    // batches read on the caller's thread and three read ahead (this test runs under TSan).
    std::string bad_and_long;
    for (int i = 0; i < 400; ++i) {
      bad_and_long +=
          R"({"resourceType":"Patient","id":"q)" + std::to_string(i) +
          R"(","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"1EG4TE5MK)" +
          std::to_string(10 + i % 80) + "\"}]}\n";
      if (i == 150) bad_and_long += "{not json}\n";
      if (i == 300)
        bad_and_long += "{\"resourceType\":\"Patient\",\"x\":\"" + std::string(9000, 'y') + "\"}\n";
      // Longer than a chunk and the limit together: refused before its end arrives.
      if (i == 350)
        bad_and_long +=
            "{\"resourceType\":\"Patient\",\"x\":\"" + std::string(40000, 'z') + "\"}\n";
    }
    const named_inputs inputs{
        {"1-records.ndjson", sample("days/mixed-day/1-records.ndjson")},
        {"2-claims.x12", sample("days/mixed-day/2-claims.x12")},
        {"3-late-records.ndjson", sample("days/mixed-day/3-late-records.ndjson")},
        {"bad-and-long.ndjson", bad_and_long}};
    engine::intake_settings settings;
    settings.fhir.max_bytes = 8192;
    const auto one = replay(inputs, settings, 0, 16384), ahead = replay(inputs, settings, 3, 16384);
    REQUIRE_FALSE(one.out.later.empty());  // the late records release holds
    CHECK(one.out.messages > 30);          // many batches
    CHECK(one.lent == 0);
    CHECK(ahead.lent > 30);  // read on the pool's threads
    check_same(ahead, one);
    CHECK(one.results[3].rejected);  // the bad line and the long ones
    const auto named = [&](const std::string& what) {
      return std::any_of(one.out.findings.begin(), one.out.findings.end(),
                         [&](const std::string& f) { return f.find(what) != std::string::npos; });
    };
    CHECK(named("line 354: "));  // refused by its size before its end arrived (the 40 KB one)
  }

  TEST_CASE("X12 read ahead on another thread answers, decides and keeps what one thread does") {
    // Claims in 1,000-byte chunks: the sample day's (holds), a set refused by its count, an
    // interchange sent twice in one input (answered again from the state, as the second asks
    // at its ISA while the first may still be unanswered), garbage; then the day's claims
    // again in a later input (known from the state: the reader's question is answered on
    // the caller's thread), a control number reused for other content, and the late records
    // (later releases). Every answer, finding and event in the same order, the same state.
    const auto day = sample("days/mixed-day/2-claims.x12");
    const auto pump = sample("x12/01-insulin-pump-837p.x12");
    auto reused = sample("scenarios/02-csii-release-after-late-lab/2-claim.x12");
    const auto original = reused;
    reused.replace(reused.find("CSII-LATE"), 9, "CSII-OTHR");
    const named_inputs inputs{{"claims.x12", day + pump + sample("x12/04-wrong-segment-count.x12") +
                                                 pump + "ISA*garbage~"},
                              {"original.x12", original},
                              {"again.x12", day + reused},
                              {"late.ndjson", sample("days/mixed-day/3-late-records.ndjson")}};
    const auto one = replay(inputs, {}, 0, 1000), ahead = replay(inputs, {}, 2, 1000);
    CHECK(one.lent == 0);
    CHECK(ahead.lent > 100);  // a piece of work per chunk
    REQUIRE(one.results.size() == 4);
    CHECK(one.results[0].claims > 100);
    CHECK(one.results[0].rejected);                    // the refused set and the garbage
    CHECK(one.results[0].repeated_interchanges == 1);  // the pump's claims sent twice
    CHECK(one.results[2].repeated_interchanges == 1);  // the day's claims again
    CHECK(one.results[2].rejected);                    // the reused control number
    CHECK(one.out.x12_text.find("*R*025~") != std::string::npos);
    REQUIRE_FALSE(one.out.later.empty());
    check_same(ahead, one);
  }

  TEST_CASE("chunks given with their buffers (put_buffer) are answered as chunks copied") {
    // Read ahead, the X12 input keeps the buffer given and hands back one a reader finished
    // with; the caller writes over it at once. On the caller's thread, and for NDJSON, the
    // bytes are copied as put() copies them. The same answers, events and state either way.
    const auto pump = sample("x12/01-insulin-pump-837p.x12");
    const named_inputs inputs{{"claims.x12", sample("days/mixed-day/2-claims.x12") + pump + pump},
                              {"late.ndjson", sample("days/mixed-day/3-late-records.ndjson")}};
    const auto copied = replay(inputs, {}, 2, 1000);
    REQUIRE(copied.results.size() == 2);
    CHECK(copied.results[0].claims > 100);
    CHECK(copied.results[0].repeated_interchanges == 1);
    REQUIRE_FALSE(copied.out.later.empty());
    check_same(replay(inputs, {}, 2, 1000, handing::given), copied);
    check_same(replay(inputs, {}, 0, 1000, handing::given), copied);
  }

  TEST_CASE("X12 read ahead: an input given up before finish() waits for its chunks, no more") {
    // A host that fails mid-file drops its input. Its chunks are still being read, the first
    // perhaps waiting at its ISA for the caller to say whether the interchange is known (it
    // is: the same claims were answered before). Dropping it returns (this runs under TSan
    // and ASan), answers nothing, and leaves the intake as it was: the same claims sent whole
    // afterwards are answered again as the first time.
    store::memory_state state;
    test::thread_per_work pool;
    engine::intake_settings settings;
    settings.read_ahead = 4;
    settings.read_pool = &pool;
    engine::intake intake{test::shipped_ncd223(), test::shipped_tables(), state, settings};
    const auto day = sample("days/mixed-day/2-claims.x12");
    collected out;
    {
      auto input = intake.open("first.x12", {0}, out);
      input->put(day);
      input->finish();
    }
    const auto answered = out.first.size();
    REQUIRE(answered > 0);
    {
      auto input = intake.open("given-up.x12", {0}, out);
      for (std::size_t i = 0; i < 4000 && i < day.size(); i += 1000) {
        input->put(day.substr(i, 1000));
      }
    }
    CHECK(out.first.size() == answered);
    collected again;
    auto input = intake.open("again.x12", {0}, again);
    input->put(day);
    const auto r = input->finish();
    CHECK(r.repeated_interchanges == 1);
    CHECK(again.first.empty());  // nothing processed twice
    CHECK_FALSE(again.x12_text.empty());
  }

  TEST_CASE(
      "regression: one NDJSON line longer than a message is refused by its size, in bounded "
      "memory") {
    store::memory_state state;
    engine::intake_settings settings;
    settings.fhir.max_bytes = 4096;
    engine::intake intake{test::shipped_ncd223(), test::shipped_tables(), state, settings};
    collected out;
    auto input = intake.open("long.ndjson", {0}, out);
    input->put(
        "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Patient\",\"x\":\"");
    for (int i = 0; i < 1000; ++i) input->put(std::string(1024, 'y'));  // 1 MB, no newline
    input->put("\"}\n{\"resourceType\":\"Patient\",\"id\":\"c\"}\n");
    const auto r = input->finish();
    CHECK(r.rejected);
    CHECK(r.facts == 2);  // the lines before and after it
    bool named = false;
    for (const auto& line : out.findings)
      named = named || line.find("line 2: ") != std::string::npos;
    CHECK(named);
  }
}
