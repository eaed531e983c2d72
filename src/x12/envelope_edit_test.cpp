#include "covgate/x12/envelope_edit.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace covgate::x12;

namespace {

std::string interchange(const std::string& control, const std::string& group_id,
                        char separator = '*', char terminator = '~',
                        const std::string& line_break = "\n") {
  const std::string s(1, separator);
  const std::string t = std::string(1, terminator) + line_break;
  std::string isa = "ISA" + s + "00" + s + "          " + s + "00" + s + "          " + s + "ZZ" +
                    s + "COVGATE        " + s + "ZZ" + s + "SUBMITTER      " + s + "261130" + s +
                    "1200" + s + "^" + s + "00501" + s + control + s + "0" + s + "P" + s + ":";
  std::string text = isa + t;
  if (!group_id.empty()) {
    text += "GS" + s + group_id + s + "COVGATE" + s + "SUBMITTER" + s + "20261130" + s + "1200" +
            s + "1" + s + "X" + s + "005010X212" + t;
    text += "ST" + s + "277" + s + "0001" + t + "SE" + s + "2" + s + "0001" + t;
    text += "GE" + s + "1" + s + "1" + t;
  }
  text += "IEA" + s + (group_id.empty() ? "0" : "1") + s + control + t;
  return text;
}

}  // namespace

TEST_SUITE("x12.envelope_edit") {
  TEST_CASE("a stream is cut after each IEA, every byte in exactly one piece") {
    const auto a = interchange("000000001", "HN");
    const auto b = interchange("000000002", "FA");
    const auto c = interchange("000000003", "");
    const std::string stream = "\xEF\xBB\xBF" + a + "\r\n" + b + c + "\n\n";
    const auto pieces = split_interchanges(stream);
    REQUIRE(pieces.size() == 3);
    CHECK(pieces[0] == "\xEF\xBB\xBF" + a);  // leading bytes go with the first
    CHECK(pieces[1] == "\r\n" + b);          // bytes between go with the next
    CHECK(pieces[2] == c + "\n\n");          // trailing bytes stay with the last
    std::string joined;
    for (const auto p : pieces) joined += p;
    CHECK(joined == stream);
  }

  TEST_CASE("other delimiters, no line breaks, and CRLF after the terminator") {
    const auto a = interchange("000000011", "HN", '|', '\'', "");
    const auto b = interchange("000000012", "HN", '^', '~', "\r\n");
    const auto stream = a + b;
    const auto pieces = split_interchanges(stream);
    REQUIRE(pieces.size() == 2);
    CHECK(pieces[0] == a);
    CHECK(pieces[1] == b);
  }

  TEST_CASE("what cannot be followed stays whole for the reader to refuse") {
    CHECK(split_interchanges("").empty());
    const auto none = split_interchanges("not x12 at all");
    REQUIRE(none.size() == 1);
    CHECK(none[0] == "not x12 at all");
    const auto good = interchange("000000001", "HN");
    auto cut = interchange("000000002", "HN");
    cut.resize(cut.find("IEA"));     // no IEA
    const auto stream = good + cut;  // the pieces view it
    const auto pieces = split_interchanges(stream);
    REQUIRE(pieces.size() == 2);
    CHECK(pieces[0] == good);
    CHECK(pieces[1] == cut);
    const auto short_isa = split_interchanges("ISA*00*shortened~IEA*1*000000001~");
    REQUIRE(short_isa.size() == 1);
  }

  TEST_CASE("GS01 of the first group names what an interchange answers") {
    CHECK(first_functional_id(interchange("000000001", "HN")) == "HN");
    CHECK(first_functional_id(interchange("000000001", "FA", '|', '\'', "")) == "FA");
    CHECK(first_functional_id(interchange("000000001", "")).empty());
    CHECK(first_functional_id("garbage").empty());
  }

  TEST_CASE("ISA13 and IEA02 are rewritten together, nothing else") {
    auto text = interchange("000000001", "HN");
    auto expected = interchange("123456789", "HN");
    CHECK(set_interchange_control(text, "123456789"));
    CHECK(text == expected);
    auto odd = interchange("000000007", "", '|', '\'', "\r\n");
    CHECK(set_interchange_control(odd, "000000042"));
    CHECK(odd == interchange("000000042", "", '|', '\'', "\r\n"));
  }

  TEST_CASE("regression: blanks the reader skips before a segment are skipped here too") {
    // Found by the fuzzer: a vertical tab before IEA. The 837 reader skips it (as it skips any
    // blank before a segment) and accepted the interchange, but the envelope editor looked for
    // IEA only after line breaks, found none, and a cluster front could not renumber the part.
    for (const auto* blanks : {"\v", " \t", "\f\r\n"}) {
      auto text = interchange("000000001", "HN");
      text.insert(text.find("IEA"), blanks);
      INFO("blanks of " << std::string(blanks).size() << " bytes");
      CHECK(set_interchange_control(text, "000000042"));
      CHECK(text.find("*000000042~") != std::string::npos);
      CHECK(split_interchanges(text + text).size() == 2);
    }
  }

  TEST_CASE(
      "a control number that is not nine digits, or an envelope without IEA, changes nothing") {
    auto text = interchange("000000001", "HN");
    const auto before = text;
    CHECK_FALSE(set_interchange_control(text, "12345678"));
    CHECK_FALSE(set_interchange_control(text, "12345678x"));
    CHECK(text == before);
    auto cut = before.substr(0, before.find("IEA"));
    const auto cut_before = cut;
    CHECK_FALSE(set_interchange_control(cut, "000000002"));
    CHECK(cut == cut_before);
  }
}
