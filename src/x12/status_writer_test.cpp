#include "covgate/x12/status_writer.hpp"

#include <doctest/doctest.h>

#include "covgate/model/decision_json.hpp"
#include "support/x12_fixtures.hpp"

using namespace covgate;

namespace {

struct fixture {
  model::claim claim;
  model::decision hold;
  model::decision release;

  fixture() {
    const auto sink = test::read(test::interchange(test::professional_body()));
    claim = sink.claims.front();
    hold.claim_id = claim.id;
    hold.result = model::outcome::hold_documentation;
    for (const char* code : {"csii.followup.not-physician", "csii.c-peptide.not-fasting"}) {
      hold.findings.push_back({*model::reason_named(code), 1, {}, {}});
    }
    release.claim_id = claim.id;
    release.result = model::outcome::release;
  }
};

x12::status_settings settings(x12::status_profile profile) {
  x12::status_settings s;
  s.profile = profile;
  s.date = "20261127";
  s.time = "1200";
  return s;
}

}  // namespace

TEST_SUITE("x12.status_writer") {
  TEST_CASE("a hold lists one STC per reason with the reason codes in STC12") {
    const fixture f;
    const auto text =
        x12::write_277({{&f.claim, &f.hold, ""}}, settings(x12::status_profile::notification_x212));
    CHECK(text.find("ST*277*0001*005010X212~") != std::string::npos);
    CHECK(text.find("TRN*2*PUMP001~") != std::string::npos);
    CHECK(text.find("STC*P3:387*20261127**5000******P3:147**csii.followup.not-physician LX1~") !=
          std::string::npos);
    CHECK(text.find("STC*P3:300*20261127**5000********csii.c-peptide.not-fasting LX1~") !=
          std::string::npos);
    CHECK(text.find("DTP*472*RD8*20260310-20260409~") != std::string::npos);
    CHECK(text.find("REF*1K") == std::string::npos);
  }

  TEST_CASE("a release is A2:20 with WQ and REF*1K when it has a trace number") {
    const fixture f;
    const auto text = x12::write_277({{&f.claim, &f.release, "TRACE77"}},
                                     settings(x12::status_profile::notification_x212));
    CHECK(text.find("STC*A2:20*20261127*WQ*5000~") != std::string::npos);
    CHECK(text.find("REF*1K*TRACE77~") != std::string::npos);
  }

  TEST_CASE("the 277CA profile uses A categories only: a hold is A1:19 naming its reasons") {
    const fixture f;
    const auto text = x12::write_277({{&f.claim, &f.hold, ""}},
                                     settings(x12::status_profile::acknowledgment_x214));
    CHECK(text.find("ST*277*0001*005010X214~") != std::string::npos);
    CHECK(text.find("BHT*0085*08*") != std::string::npos);
    CHECK(text.find("STC*A1:19*20261127**5000********csii.followup.not-physician "
                    "csii.c-peptide.not-fasting~") != std::string::npos);
    CHECK(text.find("STC*P") == std::string::npos);
  }

  TEST_CASE("our 277 reads back through our reader with exact envelope counts") {
    const fixture f;
    const auto text = x12::write_277({{&f.claim, &f.hold, ""}, {&f.claim, &f.release, "T1"}},
                                     settings(x12::status_profile::notification_x212));
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
}

TEST_SUITE("x12.status_writer") {
  TEST_CASE("values holding our delimiters get other delimiters, and read back intact") {
    fixture f;
    f.claim.id = "PCN*7:A~B";  // legal under a sender whose delimiters are | ^ and newline
    const auto text = x12::write_277({{&f.claim, &f.release, "T*1"}},
                                     settings(x12::status_profile::notification_x212));
    const char element = text[3];
    const char component = text[104];
    const char segment = text[105];
    for (const char d : {element, component, segment}) {
      CHECK(std::string("*:~").find(d) == std::string::npos);
    }
    CHECK(element != component);
    CHECK(component != segment);
    const std::string trn = std::string("TRN") + element + "2" + element + "PCN*7:A~B" + segment;
    CHECK(text.find(trn) != std::string::npos);
    const auto back = test::read(text);
    REQUIRE(back.interchanges.size() == 1);
    CHECK(back.interchanges[0].errors.empty());
  }

  TEST_CASE("values without our delimiters keep the usual ones") {
    const fixture f;
    const auto text = x12::write_277({{&f.claim, &f.release, ""}},
                                     settings(x12::status_profile::notification_x212));
    CHECK(text[3] == '*');
    CHECK(text[104] == ':');
    CHECK(text[105] == '~');
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
    model::append_json(line, d, "hold", "file:0");
    CHECK(
        line.rfind(
            R"({"event":"hold","claim_id":"PUMP001","patient":"1EG4TE5MK73","dos":"2026-03-10","policy":"NCD223@2026-03-07","outcome":"hold:documentation","reasons":[{"code":"csii.followup.not-physician","line":1,"stc":"P3:387",)",
            0) == 0);
    CHECK(line.find(R"("source":"file:0"})") != std::string::npos);
  }
}
