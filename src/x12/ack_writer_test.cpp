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
}
