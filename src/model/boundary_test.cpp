#include "covgate/model/boundary.hpp"

#include <doctest/doctest.h>

#include <string>

#include "covgate/model/json_writer.hpp"

using namespace covgate;

namespace {

// Every byte a hostile sender might use to break out of a context.
// sizeof - 1 keeps the embedded NUL and drops the terminating one.
constexpr char hostile_ascii[] = "a\r\nSet-Cookie: x=1\0\x0B\x1C\x7F";
const std::string hostile = std::string(hostile_ascii, sizeof hostile_ascii - 1) + "\xFF\xC0\xAF";

std::string json_of(std::string_view text) {
  std::string out;
  boundary::append_json_string_contents(out, text);
  return out;
}

}  // namespace

TEST_SUITE("model.boundary") {
  TEST_CASE("valid_utf8 accepts RFC 3629 and refuses overlongs, surrogates and truncations") {
    CHECK(boundary::valid_utf8(""));
    CHECK(boundary::valid_utf8("plain"));
    CHECK(boundary::valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x92\x89"));
    CHECK_FALSE(boundary::valid_utf8("\xC0\xAF"));          // overlong '/'
    CHECK_FALSE(boundary::valid_utf8("\xE0\x80\xAF"));      // overlong
    CHECK_FALSE(boundary::valid_utf8("\xED\xA0\x80"));      // a surrogate
    CHECK_FALSE(boundary::valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(boundary::valid_utf8("\xE2\x82"));          // cut short
    CHECK_FALSE(boundary::valid_utf8("\xFF"));
    CHECK_FALSE(boundary::valid_utf8("\x80"));
  }

  TEST_CASE("JSON string contents escape controls and replace invalid UTF-8 with U+FFFD") {
    CHECK(json_of("a\"b\\c") == "a\\\"b\\\\c");
    CHECK(json_of("\r\n\t") == "\\r\\n\\t");
    CHECK(json_of(std::string("\0\x0B\x1C", 3)) == "\\u0000\\u000b\\u001c");
    CHECK(json_of("caf\xC3\xA9") == "caf\xC3\xA9");
    CHECK(json_of("X\xFFY") == "X\xEF\xBF\xBDY");
    CHECK(json_of("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // each stray byte replaced
    const auto out = json_of(hostile);
    CHECK(boundary::valid_utf8(out));
    CHECK(out.find('\r') == std::string::npos);
    CHECK(out.find('\n') == std::string::npos);
    CHECK(out.find('\0') == std::string::npos);
  }

  TEST_CASE("the JSON writer's output is valid UTF-8 whatever its values hold") {
    std::string out;
    model::json_writer(out).begin_object().key("id\xFF").value(hostile).end_object();
    CHECK(boundary::valid_utf8(out));
    CHECK(out.find("\xEF\xBF\xBD") != std::string::npos);
  }

  TEST_CASE("header values cannot end the header or start another") {
    const auto v = boundary::header_value(hostile);
    REQUIRE(v);
    for (const char c : *v) {
      CHECK(static_cast<unsigned char>(c) >= 0x20);
      CHECK(static_cast<unsigned char>(c) <= 0x7E);
    }
    CHECK(v->find("%0D%0A") != std::string::npos);
    CHECK(boundary::header_value("CLM-1:2") == "CLM-1:2");
    CHECK(boundary::header_value("100%") == "100%25");  // reversible: '%' is encoded too
    CHECK(boundary::header_value(std::string(1024, 'a')).has_value());
    CHECK_FALSE(boundary::header_value(std::string(1025, 'a')).has_value());
    CHECK_FALSE(boundary::header_value(std::string(400, '\n')).has_value());  // 1200 encoded
  }

  TEST_CASE("file names are injective and never a path, hidden or dot-dot") {
    CHECK(boundary::file_name("X/1:2") == "X%2F1%3A2");
    CHECK(boundary::file_name("X_1:2") == "X_1%3A2");
    CHECK(boundary::file_name("X/1:2") != boundary::file_name("X_1:2"));
    CHECK(boundary::file_name("..") == "%2E%2E");
    CHECK(boundary::file_name(".hidden") == "%2Ehidden");
    CHECK(boundary::file_name("a%2F") == "a%252F");  // the escape character is escaped too
    const auto n = boundary::file_name(hostile);
    REQUIRE(n);
    CHECK(n->find('/') == std::string::npos);
    CHECK(n->find('\0') == std::string::npos);
    CHECK_FALSE(boundary::file_name("").has_value());
    CHECK(boundary::file_name(std::string(200, 'k')).has_value());
    CHECK_FALSE(boundary::file_name(std::string(201, 'k')).has_value());
  }

  TEST_CASE("MLLP payloads must not hold the frame's start or end byte") {
    CHECK(boundary::mllp_payload_ok("MSH|^~\\&|A\r"));
    CHECK_FALSE(boundary::mllp_payload_ok("A\x1C\rMSH|forged"));
    CHECK_FALSE(boundary::mllp_payload_ok("\x0B"));
    CHECK(boundary::mllp_payload_ok("ISA*00\r\n"));  // CR and LF are data
  }

  TEST_CASE("FHIR ids follow the R4 id datatype") {
    CHECK(boundary::fhir_id("cpep-1.2"));
    CHECK(boundary::fhir_id(std::string(64, 'a')));
    CHECK_FALSE(boundary::fhir_id(std::string(65, 'a')));
    CHECK_FALSE(boundary::fhir_id(""));
    CHECK_FALSE(boundary::fhir_id("x\r\nSet-Cookie: evil=1"));
    CHECK_FALSE(boundary::fhir_id("a/b"));
    CHECK_FALSE(boundary::fhir_id("a_b"));
    CHECK_FALSE(boundary::fhir_id("caf\xC3\xA9"));
  }

  TEST_CASE("percent-decoding a path segment or query value") {
    CHECK(boundary::percent_decode("A%2FB%20C") == "A/B C");
    CHECK(boundary::percent_decode("hold%3Adocumentation") == "hold:documentation");
    CHECK(boundary::percent_decode("a+b") == "a+b");
    CHECK(boundary::percent_decode("a+b", true) == "a b");
    CHECK_FALSE(boundary::percent_decode("%").has_value());
    CHECK_FALSE(boundary::percent_decode("%4").has_value());
    CHECK_FALSE(boundary::percent_decode("%zz").has_value());
    CHECK_FALSE(boundary::percent_decode("%FF").has_value());  // not UTF-8
    CHECK(boundary::percent_decode("%C3%A9") == "\xC3\xA9");
  }

  TEST_CASE("HTML escaping keeps text from opening a tag or leaving an attribute") {
    CHECK(boundary::html_escaped("plain text, caf\xC3\xA9") == "plain text, caf\xC3\xA9");
    CHECK(boundary::html_escaped("<script>alert(1)</script>") ==
          "&lt;script&gt;alert(1)&lt;/script&gt;");
    CHECK(boundary::html_escaped("a\"b'c&d") == "a&quot;b&#39;c&amp;d");
    CHECK(boundary::html_escaped(std::string("x\0y\x01z\x7F", 6)) ==
          "x\xEF\xBF\xBDy\xEF\xBF\xBDz\xEF\xBF\xBD");
    CHECK(boundary::html_escaped("tab\tcr\rlf\n") == "tab\tcr\rlf\n");
    CHECK(boundary::html_escaped("bad \xC3 utf8 \xFF") == "bad \xEF\xBF\xBD utf8 \xEF\xBF\xBD");
    std::string out = "<p>";
    boundary::append_html_escaped(out, "&&");
    CHECK(out == "<p>&amp;&amp;");
  }

  TEST_CASE("CSV fields are quoted when needed and never read as a formula") {
    const auto field = [](std::string_view text) {
      std::string out;
      boundary::append_csv_field(out, text);
      return out;
    };
    CHECK(field("1AA1AA1AA11") == "1AA1AA1AA11");
    CHECK(field("") == "");
    CHECK(field("a,b") == "\"a,b\"");
    CHECK(field("say \"hi\"") == "\"say \"\"hi\"\"\"");
    CHECK(field("two\nlines") == "\"two\nlines\"");
    CHECK(field("=HYPERLINK(1)") == "'=HYPERLINK(1)");
    CHECK(field("-1+2") == "'-1+2");
    CHECK(field("@sum,x") == "\"'@sum,x\"");
    CHECK(field("bad \xFF") == "bad \xEF\xBF\xBD");
  }
}
