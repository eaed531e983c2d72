#include "segment_writer.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace covgate::x12;

namespace {

constexpr delimiters star{'*', ':', '^', '~'};

// Every printable byte in turn: a value of any length whose every byte differs from its
// neighbours, so a byte copied to the wrong place shows.
std::string value_of(std::size_t length) {
  std::string v;
  for (std::size_t i = 0; i < length; ++i) v.push_back(static_cast<char>('A' + i % 26));
  return v;
}

}  // namespace

TEST_SUITE("x12.segment_writer") {
  TEST_CASE("a value of every length up to past the short copy is written whole and in place") {
    std::string buffer;
    segment_writer w(star, false, buffer);
    std::string expected;
    for (std::size_t length = 0; length <= 40; ++length) {
      const auto v = value_of(length);
      w.begin("REF").element("X").element(v).component(v).more(v).end();
      expected += "REF*X*" + v + ":" + v + v + "~";  // component() writes its separator
    }
    CHECK(w.written() == expected);
    CHECK(w.count() == 41);
  }

  TEST_CASE("trailing empty elements and components are not sent") {
    std::string buffer;
    segment_writer w(star, true, buffer);
    w.begin("STC").composite_element({"A1", "19", ""}).element("").element("").end();
    w.begin("STC").composite_element({"A1", "", "PR"}).element("5").end();
    CHECK(w.written() == "STC*A1:19~\nSTC*A1::PR*5~\n");
  }

  TEST_CASE("a buffer reused keeps its room and what was written before is overwritten") {
    std::string buffer(10, 'x');
    {
      segment_writer w(star, false, buffer);
      w.begin("A").element(value_of(5000)).end();  // grows past the buffer's room
      CHECK(w.written().size() == 5003);
      CHECK(w.written().substr(0, 7) == "A*ABCDE");
    }
    const auto room = buffer.size();
    segment_writer again(star, false, buffer);
    again.begin("B").end();
    CHECK(again.written() == "B~");
    CHECK(buffer.size() == room);  // kept as room, not cut
    CHECK(again.text() == "B~");   // cut to what was written when asked
  }
}
