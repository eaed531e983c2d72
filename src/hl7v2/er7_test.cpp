#include "covgate/hl7v2/er7.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace covgate;
using namespace covgate::hl7v2;

namespace {

std::vector<std::string> texts(std::string_view message, std::size_t max = 1000) {
  std::vector<segment_view> segments;
  REQUIRE(split_segments(message, segments, max));
  std::vector<std::string> out;
  for (const auto& s : segments) out.emplace_back(s.text);
  return out;
}

std::string decoded(std::string_view text, const delimiters& d = {}, bool latin1 = false) {
  std::string scratch;
  return std::string(unescape(text, d, scratch, latin1));
}

}  // namespace

TEST_SUITE("hl7v2.er7") {
  TEST_CASE("delimiters come from MSH-1 and MSH-2, any characters, four or five of them") {
    const auto d = delimiters_of("MSH|^~\\&|APP");
    REQUIRE(d);
    CHECK(*d == delimiters{});
    const auto odd = delimiters_of("MSH#*!@$#APP");
    REQUIRE(odd);
    CHECK(odd->field == '#');
    CHECK(odd->component == '*');
    CHECK(odd->repetition == '!');
    CHECK(odd->escape == '@');
    CHECK(odd->subcomponent == '$');
    const auto truncation = delimiters_of("MSH|^~\\&#|APP");
    REQUIRE(truncation);
    CHECK(truncation->truncation == '#');
    const auto short_msh2 = delimiters_of("MSH|^~\\|APP");  // absent ones take their defaults
    REQUIRE(short_msh2);
    CHECK(short_msh2->subcomponent == '&');
    CHECK(delimiters_of("FHS|^~\\&|X"));
    CHECK(delimiters_of("BHS|^~\\&\r"));
  }

  TEST_CASE("refuses delimiters that are missing, alphanumeric, repeated or too many") {
    CHECK_FALSE(delimiters_of("MSH"));
    CHECK_FALSE(delimiters_of("MSH||APP"));         // MSH-2 empty
    CHECK_FALSE(delimiters_of("MSHA^~\\&A"));       // a letter as field separator
    CHECK_FALSE(delimiters_of("MSH|^~^&|APP"));     // repeated
    CHECK_FALSE(delimiters_of("MSH|^~\\&#!|APP"));  // six characters
    CHECK_FALSE(delimiters_of("MSH|~|APP"));        // default repetition '~' is taken
    CHECK_FALSE(delimiters_of("PID|^~\\&|"));
    CHECK_FALSE(delimiters_of("MSH\r^~\\&"));
  }

  TEST_CASE("fields are numbered as HL7 numbers them, MSH-1 being the separator itself") {
    const delimiters d;
    const field_index msh("MSH|^~\\&|LAB^1.2.3^ISO|FAC|||20260312||ORU^R01|42|P|2.5.1", d);
    CHECK(msh.id() == "MSH");
    CHECK(msh[1] == "|");
    CHECK(msh[2] == "^~\\&");
    CHECK(msh[3] == "LAB^1.2.3^ISO");
    CHECK(msh[9] == "ORU^R01");
    CHECK(msh[10] == "42");
    CHECK(msh[12] == "2.5.1");
    CHECK(msh[13].empty());
    const field_index pid("PID|1||MRN1^^^H^MR~MBI^^^CMS^MC", d);
    CHECK(pid[1] == "1");
    CHECK(pid[3] == "MRN1^^^H^MR~MBI^^^CMS^MC");
    CHECK(part(pid[3], '~', 2) == "MBI^^^CMS^MC");
    CHECK(part(part(pid[3], '~', 2), '^', 5) == "MC");
    CHECK(part("a^b", '^', 3).empty());
    CHECK(part("a^b", '^', 0).empty());
    CHECK(field_index("ZZZ", d).count() == 1);
  }

  TEST_CASE("only the first 64 fields of a segment are indexed") {
    std::string segment = "PV1";
    for (int i = 1; i <= 70; ++i) segment += "|" + std::to_string(i);
    const field_index f(segment, delimiters{});
    CHECK(f.count() == field_index::max_fields);
    CHECK(f[63] == "63");
    CHECK(f[64].empty());
  }

  TEST_CASE("segments end with CR; LF or CRLF when the message has no CR") {
    CHECK(texts("MSH|^~\\&\rPID|1\rOBX|1\r") ==
          std::vector<std::string>{"MSH|^~\\&", "PID|1", "OBX|1"});
    CHECK(texts("MSH|^~\\&\nPID|1\nOBX|1") ==
          std::vector<std::string>{"MSH|^~\\&", "PID|1", "OBX|1"});
    CHECK(texts("MSH|^~\\&\r\nPID|1\r\n\r\nOBX|1\r\n") ==
          std::vector<std::string>{"MSH|^~\\&", "PID|1", "OBX|1"});
    // With CRs present, an LF inside a segment is data (a line break in an NTE).
    CHECK(texts("MSH|^~\\&\rNTE|1||first\nsecond\rOBX|1\r") ==
          std::vector<std::string>{"MSH|^~\\&", "NTE|1||first\nsecond", "OBX|1"});
  }

  TEST_CASE("segments know the line they start on, blank lines counted") {
    std::vector<segment_view> segments;
    REQUIRE(split_segments("MSH|^~\\&\r\nPID|1\r\n\r\nOBX|1", segments, 10));
    REQUIRE(segments.size() == 3);
    CHECK(segments[0].line == 1);
    CHECK(segments[1].line == 2);
    CHECK(segments[2].line == 4);
    REQUIRE(split_segments("MSH|^~\\&\n\nPID|1", segments, 10));
    CHECK(segments[1].line == 3);
  }

  TEST_CASE("the segment limit holds at the limit and refuses past it") {
    std::vector<segment_view> segments;
    CHECK(split_segments("A|1\rB|2\rC|3\r", segments, 3));
    CHECK(segments.size() == 3);
    CHECK_FALSE(split_segments("A|1\rB|2\rC|3\rD|4\r", segments, 3));
    CHECK(segments.size() == 3);
  }

  TEST_CASE("escape sequences decode to the delimiters, bytes and line breaks") {
    CHECK(decoded("a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f") == "a|b^c&d~e\\f");
    CHECK(decoded("line\\.br\\next") == "line\nnext");
    CHECK(decoded("\\X0D0A\\") == "\r\n");
    CHECK(decoded("caf\\XE9\\") == "caf\xE9");
    CHECK(decoded("caf\\XE9\\", delimiters{}, true) == "caf\xC3\xA9");
    delimiters five = *delimiters_of("MSH|^~\\&#|");
    CHECK(decoded("a\\P\\b", five) == "a#b");
    delimiters odd = *delimiters_of("MSH#*!@$#");
    CHECK(decoded("x@F@y@S@z", odd) == "x#y*z");
  }

  TEST_CASE("unknown escape sequences and a lone escape character are kept verbatim") {
    CHECK(decoded("\\H\\bold\\N\\") == "\\H\\bold\\N\\");
    CHECK(decoded("\\Zlocal\\") == "\\Zlocal\\");
    CHECK(decoded("\\C2842\\") == "\\C2842\\");
    CHECK(decoded("C:\\path") == "C:\\path");
    CHECK(decoded("\\XZZ\\") == "\\XZZ\\");
    CHECK(decoded("\\X0\\") == "\\X0\\");
    CHECK(decoded("\\P\\") == "\\P\\");  // no truncation character declared
    CHECK(decoded("no escapes") == "no escapes");
  }

  TEST_CASE("a value without the escape character is returned as is, without a copy") {
    const std::string_view text = "plain^value";
    std::string scratch;
    const auto out = unescape(text, delimiters{}, scratch);
    CHECK(out.data() == text.data());
    CHECK(scratch.empty());
  }

  TEST_CASE("escaping a value for a message and decoding it gives the value back") {
    const delimiters d;
    const std::string value = "a|b^c&d~e\\f\r\ng";
    std::string written;
    escape_into(written, value, d);
    CHECK(written.find_first_of("|^&~\r\n") == std::string::npos);
    CHECK(decoded(written, d) == value);
  }

  TEST_CASE("MSH-18 names the character set; 8859/1 is transcoded to UTF-8") {
    CHECK(charset_named("") == charset::ascii);
    CHECK(charset_named("ASCII") == charset::ascii);
    CHECK(charset_named("8859/1") == charset::latin1);
    CHECK(charset_named("UNICODE UTF-8") == charset::utf8);
    CHECK(charset_named("ISO IR87") == charset::unknown);
    std::string out;
    latin1_to_utf8("M\xFCller", out);
    CHECK(out == "M\xC3\xBCller");
    CHECK(valid_utf8(out));
    CHECK_FALSE(valid_utf8("M\xFCller"));
    CHECK_FALSE(valid_utf8("\xC0\xAF"));          // overlong
    CHECK_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate
    CHECK_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
    CHECK(valid_utf8("\xF0\x9F\x98\x80"));
    CHECK(is_ascii("MSH|^~\\&"));
    CHECK_FALSE(is_ascii("\xC3\xA9"));
  }

  TEST_CASE("DTM reads as FHIR reads the same dateTime: date as written, instant in UTC") {
    const auto v2 = parse_dtm("20260312071500-0500");
    const auto fhir = model::parse_fhir_datetime("2026-03-12T07:15:00-05:00");
    REQUIRE(v2);
    REQUIRE(fhir);
    CHECK(*v2 == *fhir);
    CHECK(*parse_dtm("20260301080000+0000") == *model::parse_fhir_datetime("2026-03-01T08:00:00Z"));
    CHECK(*parse_dtm("20260220") == *model::parse_fhir_datetime("2026-02-20"));
    CHECK(*parse_dtm("202602") == *model::parse_fhir_datetime("2026-02"));
    CHECK(*parse_dtm("2026") == *model::parse_fhir_datetime("2026"));
    CHECK(*parse_dtm("202603120715") == *model::parse_fhir_datetime("2026-03-12T07:15"));
    CHECK(*parse_dtm("20260312071530.1234") ==
          *model::parse_fhir_datetime("2026-03-12T07:15:30.1234"));
    // A date with no time is the start of that day, whatever offset it carries.
    CHECK(*parse_dtm("20260220-0500") == *model::parse_fhir_datetime("2026-02-20"));
    const auto hour = parse_dtm("2026031207");
    REQUIRE(hour);
    CHECK(hour->has_time);
  }

  TEST_CASE("malformed DTM values are refused, never guessed") {
    for (const char* bad : {"", "2026031", "20261312", "20260230", "2026031225", "202603122360",
                            "20260312071561", "20260312071500-05", "20260312071500Z", "2026-03-12",
                            "20260312071500.", "20260312071500.12345", "0000", "20260312+2500"}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_dtm(bad));
    }
  }

  TEST_CASE("DTM versions become ISO text in UTC that sorts in time order") {
    CHECK(dtm_to_iso("20260312101530-0500") == "2026-03-12T15:15:30Z");
    CHECK(dtm_to_iso("20260312221500-0500") == "2026-03-13T03:15:00Z");
    CHECK(dtm_to_iso("20260101003000+0100") == "2025-12-31T23:30:00Z");
    CHECK(dtm_to_iso("20260312101530.25+0100") == "2026-03-12T09:15:30.25Z");
    CHECK(dtm_to_iso("202603121015") == "2026-03-12T10:15:00");
    CHECK(dtm_to_iso("20260312") == "2026-03-12");
    CHECK(dtm_to_iso("202603") == "2026-03");
    CHECK(dtm_to_iso("not a time").empty());
    CHECK(
        model::older_version(dtm_to_iso("20260312101530-0500"), dtm_to_iso("20260313090210-0500")));
  }

  TEST_CASE("numbers are read as NM writes them") {
    CHECK(*parse_number("0.6") == doctest::Approx(0.6));
    CHECK(*parse_number(" 182 ") == doctest::Approx(182));
    CHECK(*parse_number("+1.5") == doctest::Approx(1.5));
    CHECK(*parse_number("-2") == doctest::Approx(-2));
    CHECK(*parse_number(".5") == doctest::Approx(0.5));
    CHECK(*parse_number("5.") == doctest::Approx(5));
    for (const char* bad :
         {"", " ", "1e5", "1.2.3", "<0.1", "abc", "1,5", "--1", ".", "-", "inf", "nan", "0x10"}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_number(bad));
    }
  }
}
