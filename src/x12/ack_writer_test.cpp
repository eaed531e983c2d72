#include "covgate/x12/ack_writer.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "support/x12_fixtures.hpp"

using namespace covgate;
using namespace covgate::x12;

namespace {

ack_settings fixed() {
  ack_settings s;
  s.date = "261127";
  s.time = "1200";
  s.control = 7;
  return s;
}

}  // namespace

TEST_SUITE("x12.ack_writer") {
  TEST_CASE("an accepted interchange gets TA1 A (requested) and a 999 with IK5 A and AK9 A") {
    const auto sink = test::read(test::interchange(test::professional_body()));
    const auto ack = write_acknowledgment(sink.interchanges[0], fixed());
    CHECK(ack.find("TA1*000000101*260310*1200*A*000~") != std::string::npos);
    CHECK(ack.find("AK1*HC*42*005010X222A1~") != std::string::npos);
    CHECK(ack.find("AK2*837*0001*005010X222A1~\nIK5*A~") != std::string::npos);
    CHECK(ack.find("AK9*A*1*1*1~") != std::string::npos);
    CHECK(ack.find("*ZZ*RECEIVER       *ZZ*SUBMITTER      *261127*1200*^*00501*000000007*") !=
          std::string::npos);
  }

  TEST_CASE("a rejected set lists IK3, CTX, IK4 and IK5 R with codes") {
    auto body = test::professional_body();
    body[22] = "DTP*472*D9*20260310";
    const auto sink = test::read(test::interchange(body));
    const auto ack = write_acknowledgment(sink.interchanges[0], fixed());
    CHECK(ack.find("IK3*DTP*24*2400*8~\nCTX*CLM01:PUMP001~\nIK4*2*1250*7~") != std::string::npos);
    CHECK(ack.find("IK5*R*5~") != std::string::npos);
    CHECK(ack.find("AK9*R*1*1*0~") != std::string::npos);
  }

  TEST_CASE("uses the sender's own delimiters") {
    std::string text = test::interchange(test::professional_body());
    for (auto& c : text) {
      if (c == '*')
        c = '|';
      else if (c == '~')
        c = '\'';
    }
    const auto sink = test::read(text);
    REQUIRE(sink.claims.size() == 1);
    const auto ack = write_acknowledgment(sink.interchanges[0], fixed());
    CHECK(ack.find("AK9|A|1|1|1'") != std::string::npos);
  }

  TEST_CASE("our own acknowledgment reads back with correct envelope counts") {
    auto body = test::professional_body();
    body[3] = "NM1*40**MAC*****46*R1";
    const auto sink = test::read(test::interchange(body, 2));
    const auto ack = write_acknowledgment(sink.interchanges[0], fixed());
    const auto back = test::read(ack);
    REQUIRE(back.interchanges.size() == 1);
    const auto& r = back.interchanges[0];
    CHECK(r.errors.empty());
    REQUIRE(r.groups.size() == 1);
    // A 999 is not an 837, so the group is "not supported" here; its envelope must be exact.
    CHECK(r.groups[0].errors == std::vector<error>{error::group_not_supported});
    for (const auto& set : r.groups[0].sets) {
      CHECK(std::find(set.errors.begin(), set.errors.end(), error::segment_count_mismatch) ==
            set.errors.end());
      CHECK(std::find(set.errors.begin(), set.errors.end(), error::set_control_mismatch) ==
            set.errors.end());
    }
  }

  TEST_CASE("an unreadable header gets a TA1 R with the code of the element at fault") {
    std::string text = test::interchange(test::professional_body());
    text.replace(text.find("SUBMITTER      "), 15, "SUBMITTER");
    const auto sink = test::read(text);
    REQUIRE_FALSE(sink.interchanges.empty());
    const auto ack = write_acknowledgment(sink.interchanges[0], fixed());
    CHECK(ack.find("TA1*000000000*") != std::string::npos);
    CHECK(ack.find("*R*024~") != std::string::npos);
  }

  TEST_CASE("IK303 names the loop as the X12 diagram does: 4 characters, 2010 for 2010AA") {
    auto body = test::professional_body();
    body[8] = "N4**OH*43004";  // the billing provider's city missing (2010AA)
    const auto sink = test::read(test::interchange(body));
    REQUIRE(sink.sets[0].segments.size() == 1);
    const auto& finding = sink.sets[0].segments.front();
    CHECK(finding.loop == "2010AA");  // the guide's name, for people (stderr)
    const auto ack = write_acknowledgment(sink.interchanges[0], fixed());
    CHECK(ack.find("IK3*N4*10*2010*8~\nIK4*1*19*1~") != std::string::npos);
    CHECK(describe_findings(sink.interchanges[0]).find("in loop 2010AA") != std::string::npos);
  }

  TEST_CASE("regression: a CLM01 holding CR, LF, 0x0B or 0x1C is rejected and never echoed") {
    for (const std::string bad : {"PUMP\r001", "PUMP\n001",
                                  "PUMP\x0b"
                                  "001",
                                  "PUMP\x1c"
                                  "001"}) {
      CAPTURE(bad);
      auto body = test::professional_body();
      body[15] = "CLM*" + bad + "*5000***12:B:1*Y*A*Y*Y";
      const auto sink = test::read(test::interchange(body));
      CHECK(sink.sets[0].rejected);
      const auto ack = write_acknowledgment(sink.interchanges[0], fixed());
      CHECK(ack.find("IK3*CLM*17*2300*8~\nIK4*1*1028*6~") != std::string::npos);
      CHECK(ack.find(bad) == std::string::npos);
      CHECK(ack.find("CTX") == std::string::npos);
      CHECK(describe_findings(sink.interchanges[0]).find(bad) == std::string::npos);
    }
  }

  TEST_CASE("a finding a leniency switch covers is marked noted in the log line") {
    auto body = test::professional_body();
    body[10] = "HL*2*7*22*0";
    reader_options options;
    options.lenient = leniency::hl_chain;
    const auto sink = test::read(test::interchange(body), 0, options);
    const auto log = describe_findings(sink.interchanges[0]);
    CHECK(log.find("element HL02: HL01 does not count 1, 2, 3 in order, or HL02 names no valid "
                   "parent (noted, IK403 7)") != std::string::npos);
    CHECK(write_acknowledgment(sink.interchanges[0], fixed()).find("IK5*E~") != std::string::npos);
  }
}
