#include "covgate/cluster/worklist_query.hpp"

#include <doctest/doctest.h>

#include "covgate/cluster/partition_query.hpp"

using namespace covgate::cluster;

TEST_SUITE("cluster.worklist_query") {
  TEST_CASE("queue counts travel partition by partition and read back exactly") {
    partition_queue_counts counts;
    counts[0][0] = {3, 1'767'225'600'000};  // three held for documentation
    counts[0][4] = {1, 1'767'312'000'000};  // one released after a hold
    counts[7][1] = {2, 5};
    counts[9] = {};  // a caught-up partition of no claim
    const auto text = encode_queue_counts(counts);
    CHECK(text ==
          "0:3,1767225600000,0,0,0,0,0,0,1,1767312000000;7:0,0,2,5,0,0,0,0,0,0;"
          "9:0,0,0,0,0,0,0,0,0,0;");
    const auto back = decode_queue_counts(text, 10);
    REQUIRE(back);
    CHECK(back->size() == 3);
    CHECK(back->at(0)[0].count == 3);
    CHECK(back->at(0)[0].oldest_since_ms == 1'767'225'600'000);
    CHECK(back->at(0)[4].count == 1);
    CHECK(back->at(7)[1].oldest_since_ms == 5);
    CHECK(decode_queue_counts("", 10)->empty());  // a worker that holds nothing yet
  }

  TEST_CASE("an answer that is not one is refused whole, never half read") {
    const std::string good = "0:3,1,0,0,0,0,0,0,1,2;";
    CHECK(decode_queue_counts(good, 1));
    CHECK_FALSE(decode_queue_counts(good, 0));                       // partition out of range
    CHECK_FALSE(decode_queue_counts("0:3,1,0,0,0,0,0,0,1;", 1));     // a number missing
    CHECK_FALSE(decode_queue_counts("0:3,1,0,0,0,0,0,0,1,2", 1));    // not ended
    CHECK_FALSE(decode_queue_counts("0:-3,1,0,0,0,0,0,0,1,2;", 1));  // a negative count
    CHECK_FALSE(decode_queue_counts("0:3,-1,0,0,0,0,0,0,1,2;", 1));  // a time before 1970
    CHECK_FALSE(decode_queue_counts("0:3,1,0,0,0,0,0,0,1,2;0:3,1,0,0,0,0,0,0,1,2;", 1));
    CHECK_FALSE(decode_queue_counts("x:3,1,0,0,0,0,0,0,1,2;", 1));
    CHECK_FALSE(decode_queue_counts("0:3,1,0,0,0,0,0,0,1,2;junk", 1));
  }

  TEST_CASE("rows of numbers travel partition by partition, each of the width asked") {
    partition_numbers rows{{2, {1, 0, 7}}, {5, {0, 0, 0}}};
    const auto text = encode_partition_numbers(rows);
    CHECK(text == "2:1,0,7;5:0,0,0;");
    CHECK(decode_partition_numbers(text, 8, 3) == rows);
    CHECK_FALSE(decode_partition_numbers(text, 8, 4));  // another width
    CHECK_FALSE(decode_partition_numbers(text, 5, 3));  // partition 5 of five
    CHECK_FALSE(decode_partition_numbers("2:1,,7;", 8, 3));
    CHECK(decode_partition_numbers("", 8, 3)->empty());
  }

  TEST_CASE("the partition list of Cg-Caught-Up") {
    CHECK(partition_list({0, 3, 5}) == "0,3,5");
    CHECK(partition_list({}).empty());
    CHECK(parse_partition_list("0,3,5") == std::vector<int>{0, 3, 5});
    CHECK(parse_partition_list("0,x,-1,7,") == std::vector<int>{0, 7});
  }
}
