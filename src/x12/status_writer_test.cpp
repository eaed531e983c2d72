#include "covgate/x12/status_writer.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "covgate/model/decision_json.hpp"
#include "support/x12_277_guide.hpp"
#include "support/x12_fixtures.hpp"

using namespace covgate;

namespace {

bool has(const std::string& text, std::string_view piece) {
  return text.find(piece) != std::string::npos;
}

model::finding finding(const char* code, std::uint32_t line) {
  return {*model::reason_named(code), line, {}, {}};
}

struct fixture {
  model::claim claim;
  model::decision hold;     // two line reasons
  model::decision release;  // covered: no reasons
  model::decision invalid;  // a claim reason and a line reason

  fixture() {
    const auto sink = test::read(test::interchange(test::professional_body()));
    claim = sink.claims.front();
    hold.claim_id = claim.id;
    hold.result = model::outcome::hold_documentation;
    hold.findings = {finding("csii.followup.not-physician", 1),
                     finding("csii.c-peptide.not-fasting", 1)};
    release.claim_id = claim.id;
    release.result = model::outcome::release;
    invalid.claim_id = claim.id;
    invalid.result = model::outcome::hold_invalid;
    invalid.findings = {finding("claim.diagnosis-missing", 0), finding("modifier.missing", 2)};
  }
};

x12::status_settings settings(x12::status_profile profile) {
  x12::status_settings s;
  s.profile = profile;
  s.date = "20261127";
  s.time = "1200";
  return s;
}

constexpr auto x212 = x12::status_profile::notification_x212;
constexpr auto x214 = x12::status_profile::acknowledgment_x214;

// Every problem the guide check finds, one per line, for a readable failure.
std::string guide_problems(std::string_view text);

#define CHECK_GUIDE(text)                        \
  do {                                           \
    const auto problems_ = guide_problems(text); \
    CHECK_MESSAGE(problems_.empty(), problems_); \
  } while (false)

std::string guide_problems(std::string_view text) {
  std::string out;
  for (const auto interchange : test::interchanges(text)) {
    for (const auto& p : test::check_277(interchange)) out += p + "\n";
  }
  return out;
}

}  // namespace

TEST_SUITE("x12.status_writer") {
  TEST_CASE("the X212 277 names the 837's submitter, billing provider and subscriber") {
    const fixture f;
    const auto text = x12::write_277({{&f.claim, &f.hold}}, settings(x212));
    INFO(text);
    CHECK(has(text, "ST*277*0001*005010X212~"));
    CHECK(has(text, "BHT*0010*08*COVGATE1*20261127*1200*DG~"));
    CHECK(has(text, "HL*1**20*1~\nNM1*PR*2*COVGATE*****PI*COVGATE~"));
    CHECK(has(text, "HL*2*1*21*1~\nNM1*41*2*SUBMITTER*****46*S1~\nTRN*2*BATCH42~"));
    CHECK(has(text, "HL*3*2*19*1~\nNM1*1P*2*HOMECARE SUPPLY*****XX*1999999984~"));
    CHECK(has(text, "HL*4*3*22*0~\nNM1*IL*1*DOE*JANE****MI*1EG4TE5MK73~\nTRN*2*PUMP001~"));
    CHECK_FALSE(has(text, "PATIENT"));
    CHECK_FALSE(has(text, "*PT~"));
    CHECK_GUIDE(text);
  }

  TEST_CASE("a buffer reused answer after answer holds each answer alone") {
    // The intake writes every set's 277 into one buffer: what a larger answer left in it must
    // not show in the next, nor its room be taken for text.
    const fixture f;
    std::vector<x12::status_entry> many;
    for (int i = 0; i < 40; ++i) many.push_back({&f.claim, &f.invalid});
    const std::vector<x12::status_entry> one{{&f.claim, &f.release}};
    std::string buffer;
    const auto large = std::string(x12::write_277(many, settings(x214), buffer));
    CHECK(large == x12::write_277(many, settings(x214)));
    const auto room = buffer.size();
    CHECK(room >= large.size());
    const auto small = x12::write_277(one, settings(x212), buffer);
    CHECK(small == x12::write_277(one, settings(x212)));
    CHECK(small.size() < large.size());
    CHECK(buffer.size() == room);  // kept as room: not filled again for the next answer
    CHECK(x12::write_277({}, settings(x212), buffer).empty());
  }

  TEST_CASE("an answer written after others in a buffer leaves them as they were") {
    // The intake keeps an interchange's 277s one after another in one buffer: each written
    // from where the last ended, over the room its writer left, as it would be alone.
    const fixture f;
    std::vector<x12::status_entry> many;
    for (int i = 0; i < 40; ++i) many.push_back({&f.claim, &f.invalid});
    const std::vector<x12::status_entry> one{{&f.claim, &f.release}};
    std::string buffer = "kept";
    const auto first = std::string(x12::write_277(one, settings(x212), buffer, 4));
    CHECK(first == x12::write_277(one, settings(x212)));
    CHECK(buffer.compare(0, 4, "kept") == 0);
    CHECK(buffer.size() > 4 + first.size());  // room after it
    const auto end = 4 + first.size();
    const auto second = std::string(x12::write_277(many, settings(x214), buffer, end));
    CHECK(second == x12::write_277(many, settings(x214)));
    CHECK(buffer.substr(0, end) == "kept" + first);
    CHECK(std::string_view(buffer).substr(end, second.size()) == second);
    // Past the buffer's end it writes at its end.
    const auto size = buffer.size();
    CHECK(x12::write_277(one, settings(x212), buffer, size + 10) == first);
    CHECK(buffer.compare(size, first.size(), first) == 0);
  }

  TEST_CASE("line reasons go in 2220D: SVC, one STC per reason, REF*FJ from REF*6R, DTP*472") {
    const fixture f;
    const auto text = x12::write_277({{&f.claim, &f.hold}}, settings(x212));
    INFO(text);
    CHECK(has(text,
              "SVC*HC:E0784:KX:NU*4821.55*0****1~\n"
              "STC*P3:387*20261127********P3:147**The only follow-up visits in the window were "
              "not with a physician. [csii.followup.not-physician]~\n"
              "STC*P3:300*20261127**********The C-peptide is not shown to be fasting (no fasting "
              "specimen or concurrent fasting glucose). [csii.c-peptide.not-fasting]~\n"
              "REF*FJ*PUMP001L1~\n"
              "DTP*472*D8*20260310~"));
    CHECK_FALSE(has(text, "LX1"));
    CHECK_GUIDE(text);
  }

  TEST_CASE("regression: units too long for the printf buffer are cut as before, not over-read") {
    // "%.3f" of 1e30 is 35 characters: SVC07 kept the buffer's first 31 (no trailing zeros)
    // before the 277 writer moved to stack buffers, and must not read past the buffer now.
    fixture f;
    f.claim.lines.front().units = 1e30;
    auto text = x12::write_277({{&f.claim, &f.hold}}, settings(x212));
    INFO(text);
    CHECK(has(text, "*1000000000000000019884624838656~\nSTC*"));
    f.claim.lines.front().units = -2.5e40;
    text = x12::write_277({{&f.claim, &f.hold}}, settings(x214));
    CHECK(has(text, "*-250000000000000001550021612601~\nSTC*"));
  }

  TEST_CASE("units are written as \"%.3f\" without trailing zeros, whole or not") {
    fixture f;
    const auto svc07 = [&f](double units) {
      f.claim.lines.front().units = units;
      const auto text = x12::write_277({{&f.claim, &f.hold}}, settings(x212));
      const auto svc = text.find("SVC*");
      return text.substr(svc, text.find('~', svc) - svc);
    };
    CHECK(svc07(4).ends_with("*0****4"));
    CHECK(svc07(-3).ends_with("*0****-3"));
    CHECK(svc07(-0.0).ends_with("*0****0"));
    CHECK(svc07(2.5).ends_with("*0****2.5"));
    CHECK(svc07(0.0004).ends_with("*0****0"));
    CHECK(svc07(1.2345).ends_with("*0****1.234"));  // 1.2345 is 1.23449999... as a double
    CHECK(svc07(999999999999999).ends_with("*0****999999999999999"));
    CHECK(svc07(1e15).ends_with("*0****1000000000000000"));
  }

  TEST_CASE("dates are CCYYMMDD, a year below 1000 zero-padded") {
    fixture f;
    for (auto& l : f.claim.lines) l.service_dates = {{999, 3, 10}, {999, 3, 10}};
    const auto text = x12::write_277({{&f.claim, &f.hold}}, settings(x212));
    INFO(text);
    CHECK(has(text, "DTP*472*D8*09990310~"));
  }

  TEST_CASE("a claim held for its lines carries the first reason's code and charge, no action") {
    const fixture f;
    const auto text = x12::write_277({{&f.claim, &f.hold}}, settings(x212));
    INFO(text);
    // STC03 is not used in X212; STC04 is the claim's total charge.
    CHECK(has(text, "TRN*2*PUMP001~\nSTC*P3:387*20261127**5000******P3:147~"));
    CHECK(has(text, "DTP*472*RD8*20260310-20260409~\nSVC*"));  // the claim's whole period
  }

  TEST_CASE("claim reasons stay at the claim, line reasons at their line, most important first") {
    const fixture f;
    const auto text = x12::write_277({{&f.claim, &f.invalid}}, settings(x212));
    INFO(text);
    CHECK(has(text,
              "TRN*2*PUMP001~\nSTC*A6:21*20261127**5000********The claim carries no ICD-10-CM "
              "diagnosis. [claim.diagnosis-missing]~"));
    CHECK(has(text,
              "SVC*HC:A4224:KX*28.40*0****2~\nSTC*A6:21*20261127********A6:453**Infusion-pump "
              "line without a KX, GA or GZ modifier. [modifier.missing]~\nDTP*472*RD8*20260310-"
              "20260409~"));
    CHECK_FALSE(has(text, "REF*FJ*PUMP001L2"));  // line 2 sent no REF*6R
    CHECK_GUIDE(text);
  }

  TEST_CASE("a reason repeated at a claim or a line is sent once there, lines in LX order") {
    // The decision's order is by importance, not by line: line 2's reason comes first here,
    // and reasons repeat (a rule may find the same thing twice).
    const fixture f;
    model::decision d = f.hold;
    d.findings = {
        finding("modifier.missing", 2),
        finding("csii.c-peptide.not-fasting", 1),
        finding("modifier.missing", 2),
        finding("csii.followup.not-physician", 1),
        finding("claim.diagnosis-missing", 0),
        finding("claim.diagnosis-missing", 0),
        finding("csii.c-peptide.not-fasting", 2),
        finding("csii.c-peptide.not-fasting", 1)};  // line 1's first again, not next to it
    // Each SVC and STC of the claim's loops: SVC01, or STC01 and STC10.
    const auto outline = [](const std::string& text) {
      std::vector<std::string> out;
      for (auto at = text.find("TRN*2*PUMP001~"); at < text.size();) {
        const auto end = text.find('~', at);
        const auto segment = text.substr(at, end - at);
        std::vector<std::string> e;
        for (std::size_t from = 0;;) {
          const auto star = segment.find('*', from);
          e.push_back(segment.substr(from, star - from));
          if (star == std::string::npos) break;
          from = star + 1;
        }
        if (e[0] == "SVC") out.push_back("SVC " + e[1]);
        if (e[0] == "STC") out.push_back("STC " + e[1] + " " + (e.size() > 10 ? e[10] : ""));
        at = end + 2;  // "~\n"
      }
      return out;
    };
    const auto text = x12::write_277({{&f.claim, &d}}, settings(x212));
    INFO(text);
    CHECK(outline(text) == std::vector<std::string>{"STC A6:21 ", "SVC HC:E0784:KX:NU",
                                                    "STC P3:300 ", "STC P3:387 P3:147",
                                                    "SVC HC:A4224:KX", "STC A6:21 A6:453",
                                                    "STC P3:300 "});
    CHECK_GUIDE(text);
    // The 277CA: every reason once at the claim, in the decision's order; a line's STC is its
    // first reason's.
    const auto strict = x12::write_277({{&f.claim, &d}}, settings(x214));
    INFO(strict);
    CHECK(outline(strict) == std::vector<std::string>{"STC A1:19:PR A1:21", "STC A1:19:PR A1:300",
                                                      "STC A1:19:PR A1:387", "STC A1:19:PR A1:21",
                                                      "SVC HC:E0784:KX:NU", "STC A1:19:PR A1:300",
                                                      "SVC HC:A4224:KX", "STC A1:19:PR A1:21"});
    CHECK_GUIDE(strict);
  }

  TEST_CASE("a release is A2:20 with REF*1K; the 277CA adds its action code WQ") {
    const fixture f;
    const auto notification = x12::write_277({{&f.claim, &f.release, "PUMP001-2"}}, settings(x212));
    INFO(notification);
    CHECK(has(notification, "STC*A2:20*20261127**5000~\nREF*1K*PUMP001-2~"));
    const auto strict = x12::write_277({{&f.claim, &f.release, "PUMP001-2"}}, settings(x214));
    INFO(strict);
    CHECK(has(strict, "STC*A2:20*20261127*WQ*5000~\nREF*1K*PUMP001-2~"));
    CHECK_GUIDE(notification);
    CHECK_GUIDE(strict);
  }

  TEST_CASE("a hold carries no REF*1K even when it has a key") {
    const fixture f;
    CHECK_FALSE(has(x12::write_277({{&f.claim, &f.hold, "PUMP001-1"}}, settings(x212)), "REF*1K"));
  }

  TEST_CASE("a void carries no payer claim number") {
    fixture f;
    f.claim.frequency = '8';
    const auto text = x12::write_277({{&f.claim, &f.release, "PUMP001-3", "void"}}, settings(x212));
    INFO(text);
    CHECK_FALSE(has(text, "REF*1K"));
  }

  TEST_CASE("a reviewer's cancel is final: A3 with the hold's first status and their words") {
    const fixture f;
    const x12::status_entry cancel{&f.claim, &f.invalid, "PUMP001-3", "cancel",
                                   "Duplicate of claim PUMP000: void it instead."};
    const auto notification = x12::write_277({cancel}, settings(x212));
    INFO(notification);
    CHECK(has(notification,
              "TRN*2*PUMP001~\nSTC*A3:21*20261127**5000********Duplicate of claim PUMP000 - void "
              "it instead.~\nDTP*472"));
    CHECK_FALSE(has(notification, "SVC*"));  // the whole claim is returned
    CHECK_FALSE(has(notification, "REF*1K"));
    const auto strict = x12::write_277({cancel}, settings(x214));
    INFO(strict);
    CHECK(has(strict, "STC*A3:21*20261127*U*5000********Duplicate of claim PUMP000 - void it"));
    CHECK(has(strict, "QTY*AA*1~\nAMT*YY*5000~"));
    CHECK(has(strict, "QTY*QC*1~\nAMT*YY*5000~"));
    CHECK_GUIDE(notification);
    CHECK_GUIDE(strict);
  }

  TEST_CASE("a cancel names the second status code of a reason that has one") {
    const fixture f;
    auto d = f.invalid;
    std::swap(d.findings[0], d.findings[1]);  // modifier.missing first: A6:21 + 453
    const auto text = x12::write_277({{&f.claim, &d, "", "cancel", ""}}, settings(x212));
    INFO(text);
    CHECK(has(text, "STC*A3:21*20261127**5000******A3:453**Cancelled by a reviewer.~"));
  }

  TEST_CASE("a reviewer's release is A2:20 with their words, not the reasons they overrode") {
    const fixture f;
    auto released = f.hold;
    released.result = model::outcome::release;  // the findings stay in the decision
    const auto text = x12::write_277(
        {{&f.claim, &released, "PUMP001-2", "release", "Trial documented on paper."}},
        settings(x212));
    INFO(text);
    CHECK(has(text, "STC*A2:20*20261127**5000********Trial documented on paper.~\nREF*1K*"));
    CHECK_FALSE(has(text, "csii.followup"));
    CHECK_FALSE(has(text, "SVC*"));
  }

  TEST_CASE("the reasons a release carries are written with it") {
    const fixture f;
    model::decision d = f.release;
    d.findings = {finding("scope.not-infusion-pump", 0), finding("modifier.expected-denial", 1)};
    const auto text = x12::write_277({{&f.claim, &d}}, settings(x212));
    INFO(text);
    CHECK(has(text,
              "STC*A2:20*20261127**5000********No infusion-pump item on the claim - outside NCD "
              "223. [scope.not-infusion-pump]~"));
    CHECK(has(text, "SVC*HC:E0784:KX:NU*4821.55*0****1~\nSTC*A2:20*20261127**********GA or GZ"));
    CHECK_GUIDE(text);
  }

  TEST_CASE("an 837I statement period is sent as RD8, its bill type as REF*BLT") {
    fixture f;
    f.claim.kind = model::claim_kind::institutional;
    f.claim.facility_type = "13";
    f.claim.statement_dates = {{2026, 3, 1}, {2026, 3, 5}};
    for (auto& l : f.claim.lines) l.service_dates = {{2026, 3, 5}, {2026, 3, 5}};
    f.claim.lines[0].revenue_code = "0274";
    const auto text = x12::write_277({{&f.claim, &f.hold}}, settings(x212));
    INFO(text);
    CHECK(has(text, "REF*BLT*131~\nDTP*472*RD8*20260301-20260305~"));
    CHECK(has(text, "SVC*HC:E0784:KX:NU*4821.55*0*0274***1~"));
    CHECK(has(text, "REF*FJ*PUMP001L1~\nDTP*472*D8*20260305~"));
    CHECK_FALSE(has(text, "DTP*472*D8*20260305~\nSVC"));  // not the line date at the claim
    CHECK_GUIDE(text);
  }

  TEST_CASE("a patient who is not the subscriber is a dependent level 23 under the subscriber") {
    fixture f;
    f.claim.patient.name = {"DOE", "JUNIOR", "", ""};
    f.claim.patient.birth_date = {2010, 5, 6};
    const auto notification = x12::write_277({{&f.claim, &f.hold}}, settings(x212));
    INFO(notification);
    CHECK(has(notification,
              "HL*4*3*22*1~\nNM1*IL*1*DOE*JANE****MI*1EG4TE5MK73~\nHL*5*4*23~\n"
              "NM1*QC*1*DOE*JUNIOR~\nTRN*2*PUMP001~"));
    const auto strict = x12::write_277({{&f.claim, &f.hold}}, settings(x214));
    INFO(strict);
    CHECK(has(strict, "HL*4*3*PT~\nNM1*QC*1*DOE*JUNIOR****MI*1EG4TE5MK73~"));
    CHECK_GUIDE(notification);
    CHECK_GUIDE(strict);
  }

  TEST_CASE("the 277CA has its 2200A, 2200B and 2200C with TRN, STC, QTY and AMT") {
    const fixture f;
    const auto text =
        x12::write_277({{&f.claim, &f.hold}, {&f.claim, &f.release, "PUMP001-2"}}, settings(x214));
    INFO(text);
    CHECK(has(text, "ST*277*0001*005010X214~\nBHT*0085*08*COVGATE1*20261127*1200*TH~"));
    CHECK(has(text,
              "HL*1**20*1~\nNM1*PR*2*COVGATE*****46*COVGATE~\nTRN*1*COVGATE1~\n"
              "DTP*050*D8*20261127~\nDTP*009*D8*20261127~"));
    CHECK(has(text,
              "HL*2*1*21*1~\nNM1*41*2*SUBMITTER*****46*S1~\nTRN*2*BATCH42~\n"
              "STC*A1:19:PR*20261127*WQ*10000~\nQTY*90*2~\nAMT*YU*10000~"));
    CHECK(has(text,
              "HL*3*2*19*1~\nNM1*85*2*HOMECARE SUPPLY*****XX*1999999984~\nTRN*1*1999999984~\n"
              "STC*A1:19:PR**WQ*10000~\nQTY*QA*2~\nAMT*YU*10000~"));
    CHECK_GUIDE(text);
  }

  TEST_CASE("a 277CA hold is A1:19 with WQ and the charge, one STC per reason with its text") {
    const fixture f;
    const auto text = x12::write_277({{&f.claim, &f.hold}}, settings(x214));
    INFO(text);
    CHECK(has(text,
              "HL*4*3*PT~\nNM1*QC*1*DOE*JANE****MI*1EG4TE5MK73~\nTRN*2*PUMP001~\n"
              "STC*A1:19:PR*20261127*WQ*5000******A1:387**The only follow-up visits in the window "
              "were not with a physician. [csii.followup.not-physician]~\n"
              "STC*A1:19:PR*20261127*WQ*5000******A1:300**The C-peptide is not shown"));
    CHECK_FALSE(has(text, "STC*P"));
    // 2220D: one STC, action code U only, no text.
    CHECK(has(text,
              "SVC*HC:E0784:KX:NU*4821.55*****1~\nSTC*A1:19:PR*20261127*U*******A1:387~\n"
              "REF*FJ*PUMP001L1~\nDTP*472*D8*20260310~"));
    CHECK_GUIDE(text);
  }

  TEST_CASE("ISA15 is the usage indicator of the settings (echo the sender's T)") {
    const fixture f;
    auto s = settings(x212);
    CHECK(x12::write_277({{&f.claim, &f.hold}}, s).substr(0, 106).ends_with("*P*:~"));
    s.usage = 'T';
    CHECK(x12::write_277({{&f.claim, &f.hold}}, s).substr(0, 106).ends_with("*T*:~"));
  }

  TEST_CASE("free text never holds a delimiter or a control character") {
    const fixture f;
    const auto text = x12::write_277({{&f.claim, &f.invalid, "", "cancel", "A*B:C~D^E\r\nF\x1C"}},
                                     settings(x212));
    CHECK(has(text, "**A-B-C-D-E  F~"));
    CHECK(test::read(text).interchanges.front().errors.empty());
  }

  TEST_CASE("with free_text off the X212 profile writes no STC12 (its guide marks it Not Used)") {
    const fixture f;
    auto s = settings(x212);
    s.free_text = false;
    const auto text = x12::write_277({{&f.claim, &f.invalid}}, s);
    INFO(text);
    CHECK_FALSE(has(text, "["));
    CHECK(test::check_277(test::interchanges(text).front(), {.policy_free_text = false}).empty());
    // The 277CA allows STC12 at 2200D and writes it whatever the setting.
    s.profile = x214;
    CHECK(has(x12::write_277({{&f.claim, &f.invalid}}, s), "[modifier.missing]"));
  }

  TEST_CASE("each line's STC carries its own finding's detail, however lines repeat them") {
    // A line STC is written once per reason and detail and repeated for the lines after: a
    // detail that changes, and changes back, must show at each line, and every repeated
    // segment still counts in SE01.
    const fixture f;
    const std::vector<std::string> details = {"first", "first", "second", "second", "first", ""};
    std::vector<model::decision> decisions(details.size(), f.hold);
    for (std::size_t i = 0; i < decisions.size(); ++i) {
      decisions[i].findings = {finding("csii.c-peptide.not-fasting", 1)};
      decisions[i].findings[0].detail = details[i];
    }
    // And a claim with the same reason and detail at both of its lines.
    decisions.push_back(f.hold);
    decisions.back().findings = {finding("csii.c-peptide.not-fasting", 1),
                                 finding("csii.c-peptide.not-fasting", 2)};
    for (auto& reason : decisions.back().findings) reason.detail = "first";
    std::vector<x12::status_entry> entries;
    for (const auto& d : decisions) entries.push_back({&f.claim, &d});
    const auto text = x12::write_277(entries, settings(x212));
    INFO(text);
    const std::string sentence =
        "STC*P3:300*20261127**********The C-peptide is not shown to be fasting (no fasting "
        "specimen or concurrent fasting glucose).";
    std::vector<std::string> line_stcs;
    for (auto at = text.find(sentence); at != std::string::npos; at = text.find(sentence, at + 1)) {
      line_stcs.push_back(text.substr(at, text.find('~', at) - at));
    }
    auto expected = details;
    expected.insert(expected.end(), {"first", "first"});
    REQUIRE(line_stcs.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      CAPTURE(i);
      const auto detail = expected[i].empty() ? std::string() : " " + expected[i];
      CHECK(line_stcs[i] == sentence + detail + " [csii.c-peptide.not-fasting]");
    }
    const auto back = test::read(text);
    REQUIRE(back.sets.size() == 1);
    CHECK(std::find(back.sets[0].errors.begin(), back.sets[0].errors.end(),
                    x12::error::segment_count_mismatch) == back.sets[0].errors.end());
    CHECK_GUIDE(text);

    // The 277CA's line STC is the reason's alone: the same segment at every line.
    const auto strict = x12::write_277(entries, settings(x214));
    INFO(strict);
    std::size_t count = 0;
    for (auto at = strict.find("STC*A1:19:PR*20261127*U*******A1:300~"); at != std::string::npos;
         at = strict.find("STC*A1:19:PR*20261127*U*******A1:300~", at + 1)) {
      ++count;
    }
    CHECK(count == expected.size());
    const auto strict_back = test::read(strict);
    REQUIRE(strict_back.sets.size() == 1);
    CHECK(std::find(strict_back.sets[0].errors.begin(), strict_back.sets[0].errors.end(),
                    x12::error::segment_count_mismatch) == strict_back.sets[0].errors.end());
    CHECK_GUIDE(strict);
  }

  TEST_CASE("our 277 reads back through our reader with exact envelope counts") {
    const fixture f;
    const auto text =
        x12::write_277({{&f.claim, &f.hold}, {&f.claim, &f.release, "T1"}}, settings(x212));
    INFO(text);
    const auto back = test::read(text);
    REQUIRE(back.interchanges.size() == 1);
    CHECK(back.interchanges[0].errors.empty());
    REQUIRE(back.interchanges[0].groups.size() == 1);
    // Not an 837 (HN, not HC), so "not supported" is the only group finding.
    CHECK(back.interchanges[0].groups[0].errors ==
          std::vector<x12::error>{x12::error::group_not_supported});
    for (const auto& set : back.interchanges[0].groups[0].sets) {
      CHECK(std::find(set.errors.begin(), set.errors.end(), x12::error::segment_count_mismatch) ==
            set.errors.end());
    }
  }

  TEST_CASE("values holding our delimiters get other delimiters, and read back intact") {
    fixture f;
    f.claim.id = "PCN*7:A~B";  // legal under a sender whose delimiters are | ^ and newline
    f.claim.subscriber.name.last = "O:NEIL";
    const auto text = x12::write_277({{&f.claim, &f.release, "T*1"}}, settings(x212));
    INFO(text);
    const char element = text[3];
    const char component = text[104];
    const char segment = text[105];
    for (const char d : {element, component, segment}) {
      CHECK(std::string("*:~").find(d) == std::string::npos);
    }
    CHECK(element != component);
    CHECK(component != segment);
    const std::string trn = std::string("TRN") + element + "2" + element + "PCN*7:A~B" + segment;
    CHECK(has(text, trn));
    CHECK(has(text, "O:NEIL"));
    const auto back = test::read(text);
    REQUIRE(back.interchanges.size() == 1);
    CHECK(back.interchanges[0].errors.empty());
  }

  TEST_CASE("values without our delimiters keep the usual ones") {
    const fixture f;
    const auto text = x12::write_277({{&f.claim, &f.release, ""}}, settings(x212));
    INFO(text);
    CHECK(text[3] == '*');
    CHECK(text[104] == ':');
    CHECK(text[105] == '~');
  }

  TEST_CASE("each of our delimiters is found at any place of a value of any length") {
    // Each delimiter at each place of a value from one to forty bytes long must make the 277
    // choose another: a guard for any faster way of finding them (a screen that reads several
    // bytes a step, tried in stop 56, steps differently below 4, 8, 16 bytes and beyond).
    fixture f;
    const auto s = settings(x212);
    struct role {
      char ours;
      std::size_t at;  // where the ISA carries it
    };
    for (const role r : {role{'*', 3}, role{'^', 82}, role{':', 104}, role{'~', 105}}) {
      for (std::size_t length = 1; length <= 40; ++length) {
        for (std::size_t place = 0; place < length; ++place) {
          std::string value(length, 'A');
          value[place] = r.ours;
          f.claim.id = value;
          const auto text = x12::write_277({{&f.claim, &f.release, ""}}, s);
          INFO(r.ours, " at ", place, " of ", length);
          REQUIRE(text.size() > 105);
          CHECK(text[r.at] != r.ours);
        }
      }
    }
  }

  TEST_CASE("a delimiter in any value the 277 copies makes it choose another") {
    const auto with = [](auto change) {
      fixture f;
      change(f.claim);
      return x12::write_277({{&f.claim, &f.release, ""}}, settings(x212));
    };
    CHECK(with([](model::claim& c) { c.subscriber.member_id = "M~1"; })[105] != '~');
    CHECK(with([](model::claim& c) { c.patient.name.first = "A*B"; })[3] != '*');
    CHECK(with([](model::claim& c) { c.billing.name.last = "CARE:PLUS"; })[104] != ':');
    CHECK(with([](model::claim& c) { c.envelope.submitter.last = "X^Y"; })[82] != '^');
    CHECK(with([](model::claim& c) { c.lines.front().modifiers = {"K~"}; })[105] != '~');
    CHECK(with([](model::claim& c) { c.billing.npi = "123*"; })[3] != '*');
    // A NUL, with no repetition separator of ours (0), is no delimiter: nothing changes.
    auto s = settings(x212);
    s.delims.repetition = 0;
    fixture f;
    f.claim.id = std::string("A\0B", 3);
    const auto text = x12::write_277({{&f.claim, &f.release, ""}}, s);
    CHECK(text.substr(0, 4) == "ISA*");
    CHECK(text[82] == '\0');  // ISA11: still none (a clash would have taken '^')
    CHECK(text[104] == ':');
    CHECK(text[105] == '~');
  }

  TEST_CASE("an 837I without a member id still gets the required NM109 (NONE)") {
    fixture f;
    f.claim.subscriber.member_id.clear();
    const auto text = x12::write_277({{&f.claim, &f.hold}}, settings(x212));
    INFO(text);
    CHECK(has(text, "NM1*IL*1*DOE*JANE****MI*NONE~"));
    CHECK_GUIDE(text);
  }
}

TEST_SUITE("x12.status_writer") {
  TEST_CASE("STC12 is the sentence and its code in brackets") {
    CHECK(x12::status_text("No fasting C-peptide.", "csii.insulinopenia.missing") ==
          "No fasting C-peptide. [csii.insulinopenia.missing]");
    CHECK(x12::status_text("A reviewer's words.", "") == "A reviewer's words.");
  }

  TEST_CASE("a long sentence is cut at a word boundary to 264 characters, the code kept") {
    std::string sentence;
    while (sentence.size() < 400) sentence += "lorem ipsum dolor ";
    const auto text = x12::status_text(sentence, "implantable.review");
    CHECK(text.size() <= 264);
    CHECK(text.ends_with("... [implantable.review]"));
    CHECK(text.starts_with("lorem ipsum dolor"));
    const auto kept = text.substr(0, text.size() - std::string("... [implantable.review]").size());
    CHECK(sentence.starts_with(kept));
    CHECK(sentence[kept.size()] == ' ');  // the cut fell between words
  }

  TEST_CASE("a sentence that just fits is not cut") {
    const std::string code = "x.y";
    const std::string sentence(264 - code.size() - 3, 'a');
    CHECK(x12::status_text(sentence, code).size() == 264);
    CHECK(x12::status_text(sentence + "a", code).ends_with("... [x.y]"));
  }

  TEST_CASE("every reason's STC12 fits its element") {
    for (const auto& r : model::reasons()) {
      CAPTURE(r.code);
      const auto text = x12::status_text(r.message, r.code);
      CHECK(text.size() <= 264);
      CHECK(text.ends_with("[" + std::string(r.code) + "]"));
    }
  }
}

TEST_SUITE("x12.status_guide") {
  TEST_CASE("every golden 277 and 277CA follows its guide's loop and segment tables") {
    namespace fs = std::filesystem;
    int checked = 0;
    for (const char* kind : {"scenarios", "days"}) {
      const fs::path folder = fs::path(COVGATE_SOURCE_DIR) / "samples/expected" / kind;
      for (const auto& file : fs::directory_iterator(folder)) {
        const auto ext = file.path().extension();
        if (ext != ".277" && ext != ".277ca") continue;
        std::ifstream in(file.path(), std::ios::binary);
        std::stringstream bytes;
        bytes << in.rdbuf();
        const auto text = bytes.str();
        for (const auto interchange : test::interchanges(text)) {
          if (interchange.find("GS*FA*") != std::string_view::npos) continue;  // a 999
          CAPTURE(file.path().filename().string());
          const auto problems = test::check_277(interchange);
          std::string all;
          for (const auto& p : problems) all += p + "\n";
          CHECK_MESSAGE(problems.empty(), all);
          CHECK(interchange.find(ext == ".277" ? "005010X212" : "005010X214") !=
                std::string_view::npos);
          ++checked;
        }
      }
    }
    CHECK(checked > 80);
  }

  TEST_CASE("the guide check finds what it is there for") {
    const fixture f;
    const auto strict = x12::write_277({{&f.claim, &f.hold}}, settings(x214));
    INFO(strict);
    const auto notification = x12::write_277({{&f.claim, &f.hold}}, settings(x212));
    INFO(notification);
    auto broken = [](std::string text, std::string_view from, std::string_view to) {
      const auto at = text.find(from);
      REQUIRE(at != std::string::npos);
      text.replace(at, from.size(), to);
      return test::check_277(text);
    };
    CHECK(test::check_277(strict).empty());
    // The findings an independent validator made on the first 277CAs.
    CHECK_FALSE(broken(strict, "TRN*1*COVGATE1~\n", "").empty());         // 2200A TRN
    CHECK_FALSE(broken(strict, "DTP*050*D8*20261127~\n", "").empty());    // DTP*050
    CHECK_FALSE(broken(strict, "STC*A1:19:PR**WQ*5000~\n", "").empty());  // 2200C STC
    CHECK_FALSE(broken(strict, "PR*20261127*WQ*5000******A1:387", "PR*20261127**5000******A1:387")
                    .empty());  // STC03 missing at 2200D
    CHECK_FALSE(broken(strict, "*U*******A1:387~", "*U*******A1:387**TEXT~").empty());  // 2220D
    CHECK_FALSE(broken(strict, "HL*4*3*PT~", "HL*4*3*PT*0~").empty());                  // HL04
    CHECK_FALSE(broken(notification, "HL*4*3*22*0~", "HL*4*3*22*1~").empty());          // children?
    CHECK_FALSE(broken(notification, "NM1*41*2*", "NM1*40*2*").empty());                // entity
    CHECK_FALSE(broken(notification, "*DG~", "*TH~").empty());                          // BHT06
    CHECK_FALSE(
        broken(notification, "REF*FJ*PUMP001L1~\nDTP*472*D8*20260310~\n", "REF*FJ*PUMP001L1~\n")
            .empty());                                         // 2220D DTP is required in X212
    CHECK_FALSE(broken(notification, "SE*", "SE*9").empty());  // SE01
    CHECK_FALSE(test::check_277(notification, {.policy_free_text = false}).empty());  // STC12
  }
}

TEST_SUITE("model.decision_json") {
  TEST_CASE("writes the decision line (docs/architecture.md)") {
    const fixture f;
    auto d = f.hold;
    d.patient = "1EG4TE5MK73";
    d.dos = {2026, 3, 10};
    d.policy = "NCD223@2026-03-07";
    std::string line;
    model::append_json(line, d, "1999999984", "hold", "file:0");
    CHECK(
        line.rfind(
            R"({"event":"hold","claim_id":"PUMP001","billing_npi":"1999999984","patient":"1EG4TE5MK73","dos":"2026-03-10","policy":"NCD223@2026-03-07","outcome":"hold:documentation","reasons":[{"code":"csii.followup.not-physician","line":1,"stc":"P3:387",)",
            0) == 0);
    CHECK(line.find(R"("source":"file:0"})") != std::string::npos);
  }
}
