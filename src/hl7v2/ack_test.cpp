#include "covgate/hl7v2/ack.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace covgate::hl7v2;

TEST_SUITE("hl7v2.ack") {
  const std::string adt =
      "MSH|^~\\&|EPIC|HOSP|COVGATE|GATE|202611271200||ADT^A01^ADT_A01|MSG0001|P|2.5.1\r"
      "PID|1||12345^^^HOSP^MR||DOE^JANE\r";

  TEST_CASE("reads MSH fields with the message's own separators") {
    CHECK(looks_like_hl7v2(adt));
    CHECK(looks_like_hl7v2("\r\n" + adt));
    CHECK_FALSE(looks_like_hl7v2("ISA*00*"));
    CHECK(looks_like_hl7v2("\xEF\xBB\xBF\x0B" + adt));
    CHECK(looks_like_hl7v2("FHS|^~\\&|LAB\rBHS|^~\\&\r"));
    CHECK(looks_like_hl7v2("BHS|^~\\&|LAB\r"));
    CHECK_FALSE(looks_like_hl7v2("BTS|1\r"));
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

  TEST_CASE("values cannot inject separators or segments into the ACK") {
    auto h = parse_msh(adt);
    h->sending_application = "EV|IL^APP~X\rMSA";
    h->control_id = "C|1\r";
    const auto ack = hl7_ack(&*h, "AA", "", "", {});
    CHECK(ack.find("|EVIL^APPXMSA|") != std::string::npos);
    CHECK(std::count(ack.begin(), ack.end(), '\r') == 2);  // MSH and MSA only
    CHECK(ack.find("MSA|AA|C1\r") != std::string::npos);
  }

  TEST_CASE("regression: MSH-3 and MSH-4 come back whole in MSH-5 and MSH-6, components kept") {
    const auto h = parse_msh(
        "MSH|^~\\&|LABSYS^2.16.840.1.113883.3.9999.1^ISO|SUNLAB^05D9999999^CLIA|COVGATE|ACME|"
        "20260312||ORU^R01^ORU_R01|M1|P|2.5.1\r");
    REQUIRE(h);
    CHECK(h->sending_application == "LABSYS^2.16.840.1.113883.3.9999.1^ISO");
    hl7_ack_settings s;
    s.application = "COVGATE^1.2.3^ISO";
    s.control_id = "A1";
    const auto ack = hl7_ack(&*h, "AA", "", "", s);
    CHECK(ack.rfind("MSH|^~\\&|COVGATE^1.2.3^ISO||LABSYS^2.16.840.1.113883.3.9999.1^ISO|"
                    "SUNLAB^05D9999999^CLIA||",
                    0) == 0);
  }

  TEST_CASE("parse_msh reads what an ACK and the reader route by") {
    const auto h = parse_msh(
        "\x0BMSH|^~\\&#|A|F|B|G|20260312101530-0500||ORU^R01^ORU_R01|M1|T^I|2.7.1^USA|||AL|ER|"
        "USA|8859/1~UNICODE UTF-8\r");
    REQUIRE(h);
    CHECK(h->encoding_characters == "^~\\&#");
    CHECK(h->delims().truncation == '#');
    CHECK(h->timestamp == "20260312101530-0500");
    CHECK(h->message_structure == "ORU_R01");
    CHECK(h->processing_id == "T");
    CHECK(h->version == "2.7.1");
    CHECK(h->version_given);
    CHECK(h->accept_ack_type == "AL");
    CHECK(h->application_ack_type == "ER");
    CHECK(h->character_set == "8859/1");
    CHECK(h->enhanced_mode());
    CHECK_FALSE(parse_msh(adt)->enhanced_mode());
    CHECK_FALSE(parse_msh("MSH|^~^&|A\r"));  // repeated delimiters
  }
}

namespace {

hl7_header header_with(std::string_view accept, std::string_view application,
                       std::string_view version = "2.5.1") {
  auto h = *parse_msh("MSH|^~\\&|LAB^1.2.3^ISO|SUNLAB|COVGATE|ACME|20260312||ORU^R01|M42|P|" +
                      std::string(version) + "|||" + std::string(accept) + "|" +
                      std::string(application) + "\r");
  return h;
}

std::vector<std::string> codes(const std::vector<std::string>& acks) {
  std::vector<std::string> out;
  for (const auto& a : acks) {
    const auto msa = a.find("MSA|");
    out.push_back(a.substr(msa + 4, 2));
  }
  return out;
}

ack_outcome outcome(ack_code code, bool stored = true) {
  ack_outcome o;
  o.application = code;
  o.stored = stored;
  if (code != ack_code::application_accept) {
    o.errors.push_back({error::data_type_error, severity::error, "OBX", 3, 5, 0, 0,
                        "OBX-5 is not a number (OBX-2 NM)"});
  }
  return o;
}

}  // namespace

TEST_SUITE("hl7v2.ack") {
  TEST_CASE("original mode answers one application ACK: AA, AE or AR") {
    hl7_ack_settings s;
    s.control_id = "CG1";
    s.timestamp = "202603121016";
    const auto h = header_with("", "");
    const auto aa = write_acks(&h, outcome(ack_code::application_accept), s);
    REQUIRE(aa.size() == 1);
    CHECK(aa[0] ==
          "MSH|^~\\&|COVGATE||LAB^1.2.3^ISO|SUNLAB|202603121016||ACK^R01^ACK|CG1|P|2.5.1\r"
          "MSA|AA|M42\r");
    const auto ae = write_acks(&h, outcome(ack_code::application_error), s);
    REQUIRE(ae.size() == 1);
    CHECK(ae[0].find("MSA|AE|M42\rERR||OBX^3^5|102^Data type error^HL70357|E||||"
                     "OBX-5 is not a number (OBX-2 NM)\r") != std::string::npos);
    CHECK(codes(write_acks(&h, outcome(ack_code::application_reject), s)) ==
          std::vector<std::string>{"AR"});
  }

  TEST_CASE("enhanced mode sends the commit ACK and the application ACK as MSH-15/16 ask") {
    hl7_ack_settings s;
    s.control_id = "CG7";
    using v = std::vector<std::string>;
    const auto ok = outcome(ack_code::application_accept);
    const auto bad = outcome(ack_code::application_error);
    const auto refused = outcome(ack_code::application_reject);
    auto run = [&](std::string_view accept, std::string_view app, const ack_outcome& o) {
      const auto h = header_with(accept, app);
      return codes(write_acks(&h, o, s));
    };
    CHECK(run("AL", "AL", ok) == v{"CA", "AA"});
    CHECK(run("AL", "NE", ok) == v{"CA"});
    CHECK(run("NE", "AL", ok) == v{"AA"});
    CHECK(run("NE", "NE", ok).empty());
    CHECK(run("ER", "ER", ok).empty());
    CHECK(run("ER", "ER", bad) == v{"AE"});
    CHECK(run("SU", "SU", ok) == v{"CA", "AA"});
    CHECK(run("SU", "SU", bad) == v{"CA"});
    CHECK(run("AL", "ER", bad) == v{"CA", "AE"});
    CHECK(run("AL", "AL", refused) == v{"CR"});  // refused: no application ACK follows
    CHECK(run("ER", "AL", refused) == v{"CR"});
    CHECK(run("SU", "AL", refused).empty());
    CHECK(run("AL", "", ok) == v{"CA", "AA"});  // one of them valued: enhanced, empty = AL
    CHECK(run("XX", "AL", ok) == v{"CA", "AA"});
  }

  TEST_CASE("the commit and application ACKs have their own control ids; MSA-2 is MSH-10") {
    hl7_ack_settings s;
    s.control_id = "CG9";
    const auto h = header_with("AL", "AL");
    const auto acks = write_acks(&h, outcome(ack_code::application_error), s);
    REQUIRE(acks.size() == 2);
    CHECK(acks[0].find("|ACK^R01^ACK|CG9|") != std::string::npos);
    CHECK(acks[1].find("|ACK^R01^ACK|CG9-2|") != std::string::npos);
    CHECK(acks[0].find("MSA|CA|M42\r") != std::string::npos);
    CHECK(acks[0].find("ERR") == std::string::npos);  // the errors go with the application ACK
    CHECK(acks[1].find("MSA|AE|M42\rERR||OBX^3^5|102") != std::string::npos);
    for (const auto& a : acks) CHECK(parse_msh(a));
  }

  TEST_CASE("facts that could not be stored are answered AE or CE with ERR 207") {
    hl7_ack_settings s;
    const auto original = header_with("", "");
    const auto ae = write_acks(&original, outcome(ack_code::application_accept, false), s);
    REQUIRE(ae.size() == 1);
    CHECK(ae[0].find("MSA|AE|M42\rERR|||207^Application internal error^HL70357|E") !=
          std::string::npos);
    const auto enhanced = header_with("AL", "AL");
    const auto ce = write_acks(&enhanced, outcome(ack_code::application_accept, false), s);
    CHECK(codes(ce) == std::vector<std::string>{"CE"});
    CHECK(ce[0].find("207^") != std::string::npos);
  }

  TEST_CASE("versions before 2.5 get ERR-1 and MSA-3 instead of ERR-2/3/4") {
    hl7_ack_settings s;
    const auto h = header_with("", "", "2.3");
    const auto acks = write_acks(&h, outcome(ack_code::application_error), s);
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].find("MSA|AE|M42|OBX-5 is not a number (OBX-2 NM)\r"
                       "ERR|OBX^3^5^102&Data type error&HL70357\r") != std::string::npos);
  }

  TEST_CASE("ERR texts are escaped, warnings are W, notes and errors past the limit are left out") {
    hl7_ack_settings s;
    const auto h = header_with("", "");
    ack_outcome o;
    o.application = ack_code::application_accept;
    o.errors.push_back({error::unit_unknown, severity::warning, "OBX", 1, 6, 0, 1,
                        "unit 'mg|dL^x' is not listed"});
    o.errors.push_back(
        {error::status_not_counted, severity::information, "OBX", 2, 11, 0, 0, "a note"});
    for (int i = 0; i < 5; ++i) {
      o.errors.push_back({error::unit_unknown, severity::warning, "OBX", 3, 6, 0, 0, "x"});
    }
    const auto acks = write_acks(&h, o, s, 3);
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].find("ERR||OBX^1^6^^1|103^Table value not found^HL70357|W||||"
                       "unit 'mg\\F\\dL\\S\\x' is not listed\r") != std::string::npos);
    CHECK(acks[0].find("a note") == std::string::npos);
    std::size_t errs = 0;
    for (auto at = acks[0].find("\rERR|"); at != std::string::npos;
         at = acks[0].find("\rERR|", at + 1)) {
      ++errs;
    }
    CHECK(errs == 3);
  }

  TEST_CASE("MSH-18 of the original is echoed so the echoed fields keep their meaning") {
    const auto h = *parse_msh("MSH|^~\\&|A|F|||20260312||ORU^R01|M1|P|2.5.1||||||8859/1\r");
    const auto acks = write_acks(&h, outcome(ack_code::application_accept), {});
    CHECK(acks.at(0).find("|P|2.5.1||||||8859/1\r") != std::string::npos);
  }

  TEST_CASE("the dedupe key reads the sender's components with the message's own delimiters") {
    const auto a = *parse_msh("MSH|^~\\&|LAB^1.2.3^ISO|FAC||||||M\\F\\1|P|2.5.1\r");
    const auto b = *parse_msh("MSH#*~\\&#LAB*1.2.3*ISO#FAC######M|1#P#2.5.1\r");
    CHECK(dedupe_key(a) == "LAB^1.2.3^ISO/FAC/M|1");
    CHECK(dedupe_key(b) == dedupe_key(a));
    const auto c = *parse_msh("MSH|^~\\&|LAB^1.2.3^ISO^^|FAC/X||||||M 1|P|2.5.1\r");
    CHECK(dedupe_key(c) == "LAB^1.2.3^ISO/FAC%2FX/M%201");
  }
}
