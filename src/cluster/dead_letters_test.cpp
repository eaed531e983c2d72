#include "covgate/cluster/dead_letters.hpp"

#include <doctest/doctest.h>

#include "support/memory_kv.hpp"

using namespace covgate::cluster;

TEST_SUITE("cluster.dead_letters") {
  TEST_CASE("a key sorts a receiver's letters by sequence; a record round-trips") {
    CHECK(dead_letter_key("out-0123456789abcdef", 42) ==
          "out-0123456789abcdef.00000000000000000042");
    CHECK(dead_letter_key("out-a", UINT64_MAX) == "out-a.18446744073709551615");
    const dead_letter letter{"out-a", 7, "CSII-LATE-2", 8, 1'796'040'000'000, "HTTP 500", false};
    CHECK(decode_dead_letter(encode_dead_letter(letter)) == letter);
    CHECK_FALSE(decode_dead_letter("not json"));
    CHECK_FALSE(decode_dead_letter(
        R"({"consumer":"out-a","sequence":-1,"key":"k","attempts":1,"at":0,"error":"","delivered":false})"));
    CHECK_FALSE(decode_dead_letter(R"({"consumer":"out-a","sequence":1})"));
  }

  TEST_CASE(
      "a book lists its receivers' letters by sequence, after a cursor, still dead or delivered") {
    memory_kv bucket;
    dead_letter_book book(bucket);
    book.record({"out-b", 30, "K3", 8, 3, "refused", false});
    book.record({"out-a", 10, "K1", 8, 1, "refused", false});
    book.record({"out-a", 20, "K2", 8, 2, "refused", false});
    book.record({"out-other", 15, "K9", 8, 2, "refused", false});  // another front's receiver
    (void)bucket.put("not-a-letter", "{}");
    (void)bucket.put(dead_letter_key("out-a", 25), "garbage");  // written by someone else

    const std::vector<std::string> ours{"out-a", "out-b"};
    auto all = book.list(ours, false, 0, 100);
    REQUIRE(all.size() == 3);
    CHECK(all[0].sequence == 10);
    CHECK(all[1].sequence == 20);
    CHECK(all[2].sequence == 30);
    CHECK(all[2].consumer == "out-b");
    const auto page = book.list(ours, false, 10, 1);  // after 10, one
    REQUIRE(page.size() == 1);
    CHECK(page[0].key == "K2");

    auto delivered = *book.find("out-a", 20);
    delivered.delivered = true;
    delivered.error.clear();
    delivered.attempts = 9;
    book.record(delivered);
    CHECK(book.list(ours, false, 0, 100).size() == 2);
    const auto done = book.list(ours, true, 0, 100);
    REQUIRE(done.size() == 1);
    CHECK(done[0] == delivered);
    CHECK(book.list(ours, std::nullopt, 0, 100).size() == 3);  // both, by sequence
    CHECK_FALSE(book.find("out-a", 25));                       // unreadable: not ours to show
    CHECK_FALSE(book.find("out-a", 99));

    // One release dead for two receivers: a page of one holds both, never just the first.
    book.record({"out-b", 10, "K1", 8, 1, "refused", false});
    const auto first = book.list(ours, false, 0, 1);
    REQUIRE(first.size() == 2);
    CHECK(first[0].consumer == "out-a");
    CHECK(first[1].consumer == "out-b");
    CHECK(first[1].sequence == 10);
    CHECK(book.list(ours, false, 10, 1).front().sequence == 30);
  }
}
