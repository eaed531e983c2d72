#include "covgate/x12/segment_reader.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/x12_fixtures.hpp"

using namespace covgate::x12;

namespace {

struct recording_handler {
  std::vector<std::string> segments;  // id|element1|element2…
  std::vector<error> errors;
  std::vector<std::uint32_t> lines;
  std::vector<error> defects;
  std::vector<std::string> texts;  // text() as given
  std::vector<std::uint32_t> keys;
  std::vector<std::uint64_t> offsets;
  void on_segment(const segment& s) {
    texts.emplace_back(s.text());
    keys.push_back(s.key());
    offsets.push_back(s.where().offset);
    std::string text(s.id());
    for (std::uint32_t i = 1; i <= s.element_count(); ++i) text += "|" + std::string(s.element(i));
    segments.push_back(text);
    lines.push_back(s.where().line);
    defects.push_back(s.defect());
  }
  void on_reader_error(const reader_event& e) { errors.push_back(e.code); }
};

recording_handler tokenize(std::string_view text, std::size_t chunk = 0,
                           reader_limits limits = {}) {
  segment_reader reader(limits);
  recording_handler handler;
  if (chunk == 0) {
    reader.put(text, handler);
  } else {
    for (std::size_t at = 0; at < text.size(); at += chunk)
      reader.put(text.substr(at, chunk), handler);
  }
  reader.finish(handler);
  return handler;
}

const std::string isa =
    "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260310*1200*^*00501*"
    "000000101*0*T*:~";

}  // namespace

TEST_SUITE("x12.segment_reader") {
  TEST_CASE("reads delimiters from the ISA and splits segments into elements") {
    const auto h = tokenize(isa + "GS*HC*A*B~IEA*0*000000101~");
    REQUIRE(h.segments.size() == 3);
    CHECK(h.segments[0].substr(0, 7) == "ISA|00|");
    CHECK(h.segments[1] == "GS|HC|A|B");
    CHECK(h.errors.empty());
  }

  TEST_CASE("feeding one byte at a time gives the same segments as feeding the whole") {
    const auto text = covgate::test::interchange(covgate::test::professional_body(), 2);
    const auto whole = tokenize(text);
    const auto bytewise = tokenize(text, 1);
    const auto odd = tokenize(text, 7);
    CHECK(whole.segments.size() == 2 + 2 * 30 + 2);
    CHECK(bytewise.segments == whole.segments);
    CHECK(odd.segments == whole.segments);
    CHECK(bytewise.lines == whole.lines);
  }

  TEST_CASE("honours non-default delimiters and a control-character terminator") {
    std::string text = isa;
    for (auto& c : text) {
      if (c == '*') c = '|';
    }
    text.back() = '\x1c';
    text[text.size() - 2] = '>';
    text += "GS|HC|A>1|B\x1cIEA|0|000000101\x1c";
    const auto h = tokenize(text);
    REQUIRE(h.segments.size() == 3);
    CHECK(h.segments[1] == "GS|HC|A>1|B");
  }

  TEST_CASE("skips a byte order mark, leading blanks and CR/LF between segments") {
    const auto h = tokenize("\xEF\xBB\xBF\r\n  " + isa + "\r\nGS*HC~\r\n\r\nIEA*0*000000101~\r\n");
    REQUIRE(h.segments.size() == 3);
    CHECK(h.segments[1] == "GS|HC");
    CHECK(h.lines[2] == 5);
    CHECK(h.errors.empty());
  }

  TEST_CASE("blanks before a segment and CR/LF after it are in no element, its id or its text") {
    // Indentation and line breaks around segments, with '~' and with a line feed as the
    // terminator (CR/LF lines), fed whole, byte by byte and in odd chunks: each element,
    // the id's key and text() hold the segment's own bytes only, whatever it ended with.
    std::string lf_isa = isa;
    lf_isa.back() = '\n';
    const std::string tilde =
        isa + "\r\n \t GS*HC*A*B~\r\n\r\n\tST*837*\r~\n  SE*1~IEA*0*000000101~\r\n";
    const std::string lf = lf_isa + "  GS*HC*A*B\r\n\r\n\tST*837*\r\nSE*1\r\nIEA*0*000000101\r\n";
    for (const auto& text : {tilde, lf}) {
      for (const std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{7}}) {
        CAPTURE(chunk);
        const auto h = tokenize(text, chunk);
        REQUIRE(h.segments.size() == 5);
        CHECK(h.segments[1] == "GS|HC|A|B");
        CHECK(h.texts[1] == "GS*HC*A*B");
        CHECK(h.keys[1] == segment_key("GS"));
        CHECK(h.segments[2] == "ST|837|");  // a trailing empty element stays, its CR does not
        CHECK(h.texts[2] == "ST*837*");
        CHECK(h.keys[2] == segment_key("ST"));
        CHECK(h.segments[3] == "SE|1");
        CHECK(h.texts[3] == "SE*1");
        CHECK(h.segments[4] == "IEA|0|000000101");
        CHECK(h.errors.empty());
      }
    }
  }

  TEST_CASE("an id alone, and a segment with too many elements, after blanks and before CRs") {
    reader_limits limits;
    limits.max_elements = 3;
    const std::string text = isa + " \tXY\r\r~\r\n  REF*A*B*C*D\r~IEA*0*000000101~";
    const auto whole = tokenize(text, 0, limits);
    REQUIRE(whole.segments.size() == 4);
    CHECK(whole.segments[1] == "XY");
    CHECK(whole.texts[1] == "XY");
    CHECK(whole.keys[1] == segment_key("XY"));
    CHECK(whole.defects[1] == error{});
    CHECK(whole.keys[2] == segment_key("REF"));
    CHECK(whole.defects[2] == error::too_many_elements);
    for (const std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{7}}) {
      CAPTURE(chunk);
      const auto split = tokenize(text, chunk, limits);
      CHECK(split.segments == whole.segments);
      CHECK(split.texts == whole.texts);
      CHECK(split.keys == whole.keys);
      CHECK(split.defects == whole.defects);
    }
  }

  TEST_CASE("treats a letter in ISA11 under 00501 as no repetition separator") {
    std::string text = isa;
    text[82] = 'U';
    segment_reader reader;
    recording_handler handler;
    reader.put(text + "IEA*0*000000101~", handler);
    CHECK(reader.repetition_letter_ignored());
    CHECK(reader.delims().repetition == 0);
  }

  TEST_CASE("reads several interchanges in one stream") {
    const auto h = tokenize(isa + "IEA*0*000000101~\n" + isa + "IEA*0*000000101~");
    CHECK(h.segments.size() == 4);
    CHECK(h.errors.empty());
  }

  TEST_CASE("rejects an ISA element of the wrong width and names the element") {
    std::string text = isa;
    text.erase(7, 1);  // ISA02 becomes nine characters
    segment_reader reader;
    struct handler_t {
      std::vector<reader_event> events;
      void on_segment(const segment&) {}
      void on_reader_error(const reader_event& e) { events.push_back(e); }
    } handler;
    reader.put(text + "GS*HC~IEA*0*000000101~", handler);
    reader.finish(handler);
    REQUIRE_FALSE(handler.events.empty());
    CHECK(handler.events.front().code == error::isa_element_width);
    CHECK(handler.events.front().isa_element == 2);
    CHECK(ta1_code_for_isa_element(2) == "011");
  }

  TEST_CASE("rejects alphanumeric or reused delimiters with their TA1 codes") {
    std::string component = isa;
    component[104] = 'X';
    CHECK(tokenize(component).errors.front() == error::invalid_component_separator);
    std::string terminator = isa;
    terminator[105] = '*';
    CHECK(tokenize(terminator).errors.front() == error::invalid_segment_terminator);
    std::string repetition = isa;
    repetition[82] = ':';
    CHECK(tokenize(repetition).errors.front() == error::invalid_repetition_separator);
  }

  TEST_CASE("reports no ISA when the input has none") {
    const auto h = tokenize("GS*HC*A~ST*837*1~");
    REQUIRE(h.errors.size() == 1);
    CHECK(h.errors.front() == error::isa_not_found);
  }

  TEST_CASE("reports a new ISA before IEA as a missing trailer and reads the new one") {
    const auto h = tokenize(isa + "GS*HC~" + isa + "IEA*0*000000101~");
    CHECK(h.errors.front() == error::interchange_trailer_missing);
    CHECK(h.segments.size() == 4);
  }

  TEST_CASE("reports bytes between interchanges once") {
    const auto h = tokenize(isa + "IEA*0*000000101~garbage here\n" + isa + "IEA*0*000000101~");
    CHECK(h.errors == std::vector<error>{error::data_outside_interchange});
    CHECK(h.segments.size() == 4);
  }

  TEST_CASE("accepts a final segment without its terminator") {
    const auto h = tokenize(isa + "IEA*0*000000101");
    CHECK(h.segments.size() == 2);
  }

  TEST_CASE("a segment at the length limit passes and one byte more is reported, not kept") {
    reader_limits limits;
    limits.max_segment_length = 20;
    const std::string at_limit = "NTE*" + std::string(16, 'A');
    const std::string past_limit = "NTE*" + std::string(17, 'A');
    for (const std::size_t chunk : {std::size_t{0}, std::size_t{3}}) {
      const auto ok = tokenize(isa + at_limit + "~IEA*0*000000101~", chunk, limits);
      CHECK(ok.defects[1] == error{});
      const auto bad = tokenize(isa + past_limit + "~IEA*0*000000101~", chunk, limits);
      REQUIRE(bad.segments.size() == 3);
      CHECK(bad.defects[1] == error::segment_too_long);
      CHECK(bad.segments[2] == "IEA|0|000000101");
    }
  }

  TEST_CASE("the length limit counts a segment's own bytes however its input was split") {
    // Blanks before a segment and CR/LF after it are not its bytes (they are dropped, as
    // between segments): a segment at the limit passes, and one byte more is reported, whether
    // it came in one read or was carried across reads, with the same offsets and lines. A CR
    // inside it is its own byte; a long run of CRs after it is not.
    reader_limits limits;
    limits.max_segment_length = 20;
    const std::string at_limit = "NTE*" + std::string(16, 'A');
    const std::string past_limit = "NTE*" + std::string(17, 'A');
    const std::string inner_cr = "NTE*" + std::string(8, 'A') + "\r" + std::string(8, 'A');
    const std::string crs(100, '\r');
    struct input {
      std::string text;
      bool too_long;
    };
    const std::vector<input> inputs{
        {isa + "\r\n   " + at_limit + "\r~\r\nIEA*0*000000101~", false},
        {isa + "\r\n   " + past_limit + "\r~\r\nIEA*0*000000101~", true},
        {isa + "\n\t" + at_limit + crs + "~IEA*0*000000101~", false},
        {isa + crs + at_limit + crs + "\n~IEA*0*000000101~", false},
        {isa + inner_cr + "~IEA*0*000000101~", true},
        {isa + at_limit + crs + "A~IEA*0*000000101~", true},
        {isa + "\r\n" + std::string(5000, ' ') + at_limit + "~IEA*0*000000101~", false},
    };
    // The same with a line feed as the terminator (CR/LF lines): the line after a segment
    // too long is counted as after any other.
    std::string lf_isa = isa;
    lf_isa.back() = '\n';
    const std::vector<input> lf_inputs{
        {lf_isa + "   " + at_limit + "\r\nSE*1\r\nIEA*0*000000101\r\n", false},
        {lf_isa + "   " + past_limit + "\r\nSE*1\r\nIEA*0*000000101\r\n", true},
    };
    auto all = inputs;
    all.insert(all.end(), lf_inputs.begin(), lf_inputs.end());
    for (std::size_t n = 0; n < all.size(); ++n) {
      CAPTURE(n);
      const auto whole = tokenize(all[n].text, 0, limits);
      REQUIRE(whole.segments.size() >= 3);
      CHECK(whole.defects[1] == (all[n].too_long ? error::segment_too_long : error{}));
      CHECK(whole.segments.back() == "IEA|0|000000101");
      CHECK(whole.errors.empty());
      for (const std::size_t chunk :
           {std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{64}}) {
        CAPTURE(chunk);
        const auto split = tokenize(all[n].text, chunk, limits);
        CHECK(split.segments == whole.segments);
        CHECK(split.defects == whole.defects);
        CHECK(split.offsets == whole.offsets);
        CHECK(split.lines == whole.lines);
      }
    }
  }

  TEST_CASE("an element count at the limit passes and one more is reported") {
    reader_limits limits;
    limits.max_elements = 3;
    const auto ok = tokenize(isa + "REF*A*B*C~IEA*0*000000101~", 0, limits);
    CHECK(ok.defects[1] == error{});
    const auto bad = tokenize(isa + "REF*A*B*C*D~IEA*0*000000101~", 0, limits);
    CHECK(bad.defects[1] == error::too_many_elements);
  }
}

TEST_SUITE("x12.segment") {
  TEST_CASE("returns empty views past the last element or component") {
    const auto h = tokenize(isa + "SV1*HC:E0784:KX*10~IEA*0*000000101~");
    CHECK(h.segments[1] == "SV1|HC:E0784:KX|10");
    CHECK(segment::nth_part("HC:E0784:KX", ':', 2) == "E0784");
    CHECK(segment::nth_part("HC:E0784:KX", ':', 4).empty());
  }

  TEST_CASE("recognises well-formed segment ids") {
    CHECK(well_formed_segment_id("NM1"));
    CHECK(well_formed_segment_id("HL"));
    CHECK_FALSE(well_formed_segment_id("Nd4"));
    CHECK_FALSE(well_formed_segment_id(""));
    CHECK_FALSE(well_formed_segment_id("1AB"));
    CHECK_FALSE(well_formed_segment_id("ABCD"));
  }
}
