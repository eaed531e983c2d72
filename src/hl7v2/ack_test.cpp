#include "covgate/hl7v2/ack.hpp"

#include <doctest/doctest.h>

using namespace covgate::hl7v2;

TEST_SUITE("hl7v2.ack") {
  const std::string adt =
      "MSH|^~\\&|EPIC|HOSP|COVGATE|GATE|202611271200||ADT^A01^ADT_A01|MSG0001|P|2.5.1\r"
      "PID|1||12345^^^HOSP^MR||DOE^JANE\r";

  TEST_CASE("reads MSH fields with the message's own separators") {
    CHECK(looks_like_hl7v2(adt));
    CHECK(looks_like_hl7v2("\r\n" + adt));
    CHECK_FALSE(looks_like_hl7v2("ISA*00*"));
    const auto h = parse_msh(adt);
    REQUIRE(h);
    CHECK(h->sending_application == "EPIC");
    CHECK(h->sending_facility == "HOSP");
    CHECK(h->message_type == "ADT");
    CHECK(h->trigger_event == "A01");
    CHECK(h->control_id == "MSG0001");
    CHECK(h->version == "2.5.1");
    const auto other = parse_msh("MSH#*~\\&#APP#FAC#####ORU*R01#42#T#2.3\r");
    REQUIRE(other);
    CHECK(other->field_separator == '#');
    CHECK(other->trigger_event == "R01");
    CHECK(other->control_id == "42");
    CHECK_FALSE(parse_msh("MSH"));
    CHECK_FALSE(parse_msh("PID|1"));
  }

  TEST_CASE("an unsupported message gets AR with ERR 200, echoing MSH-10 and swapping parties") {
    const auto h = parse_msh(adt);
    hl7_ack_settings s;
    s.timestamp = "202611271201";
    s.control_id = "ACK1";
    const auto ack = hl7_ack(&*h, "AR", "200", "Unsupported message type", s);
    CHECK(ack ==
          "MSH|^~\\&|COVGATE||EPIC|HOSP|202611271201||ACK^A01^ACK|ACK1|P|2.5.1\r"
          "MSA|AR|MSG0001\r"
          "ERR|||200^Unsupported message type^HL70357|E\r");
  }

  TEST_CASE("without a readable MSH the ACK still goes out, with an empty MSA-2") {
    hl7_ack_settings s;
    s.control_id = "ACK2";
    const auto ack = hl7_ack(nullptr, "AR", "100", "Segment sequence error", s);
    CHECK(ack.find("MSA|AR|\r") != std::string::npos);
    CHECK(ack.rfind("MSH|^~\\&|COVGATE|", 0) == 0);
  }

  TEST_CASE("values cannot inject separators into the ACK") {
    auto h = parse_msh(adt);
    h->sending_application = "EV|IL^APP";
    const auto ack = hl7_ack(&*h, "AA", "", "", {});
    CHECK(ack.find("EVILAPP") != std::string::npos);
  }
}
