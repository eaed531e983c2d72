#include "covgate/store/later_answer.hpp"

#include <doctest/doctest.h>

using covgate::store::pack_later;
using covgate::store::unpack_later;

TEST_SUITE("store.later_answer") {
  TEST_CASE("a packed later answer unpacks to its event, decision line and 277") {
    const std::string row = pack_later("release", R"({"claim":"P1"})", "ISA*00*\nIEA*1*1~");
    const auto a = unpack_later(row);
    REQUIRE(a.has_value());
    CHECK(a->event == "release");
    CHECK(a->decision == R"({"claim":"P1"})");
    CHECK(a->body == "ISA*00*\nIEA*1*1~");  // the 277's own newlines are its own
    const std::string bare = pack_later("hold", "", "");
    const auto empty = unpack_later(bare);
    REQUIRE(empty.has_value());
    CHECK(empty->event == "hold");
    CHECK(empty->decision.empty());
    CHECK(empty->body.empty());
  }

  TEST_CASE("a bare 277, or anything else, is not a packed row") {
    CHECK_FALSE(unpack_later("ISA*00*          *00*          *ZZ*A~\nGS*HN~").has_value());
    CHECK_FALSE(unpack_later("ISA*00*~GS*HN~ST*277~").has_value());  // no newline at all
    CHECK_FALSE(unpack_later("").has_value());
    CHECK_FALSE(unpack_later("\n{}\nISA").has_value());                // no event
    CHECK_FALSE(unpack_later("release\n{} with no end").has_value());  // one line only
    CHECK_FALSE(unpack_later("Release\n{}\nISA").has_value());         // not an event's name
  }
}
