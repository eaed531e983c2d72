#include "covgate/cluster/control_numbers.hpp"

#include <doctest/doctest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "support/memory_kv.hpp"

using namespace covgate::cluster;

TEST_SUITE("cluster.control_numbers") {
  TEST_CASE("two processes drawing from one key never hand out a number twice") {
    memory_kv bucket;
    control_numbers front_a(bucket, "isa13", 3);
    control_numbers front_b(bucket, "isa13", 3);
    std::set<std::string> seen;
    for (int i = 0; i < 20; ++i) {
      for (auto* numbers : {&front_a, &front_b}) {
        const auto n = numbers->next();
        CHECK(n.size() == 9);
        CHECK(seen.insert(n).second);
      }
    }
    CHECK(front_a.next() != front_b.next());
    // The key says where the next free block starts: 42 numbers were given out in blocks of 3.
    CHECK(bucket.get("isa13")->value == std::to_string(seen.size() + 2 + 1));
  }

  TEST_CASE("a block taken while another process wrote in between is taken again") {
    memory_kv bucket;
    control_numbers mine(bucket, "isa13", 10);
    control_numbers theirs(bucket, "isa13", 10);
    CHECK(theirs.next() == "000000001");
    // Another front takes the next block between this one's read and its compare-and-set.
    bucket.before_next_write = [&] {
      (void)bucket.update("isa13", "21", bucket.get("isa13")->revision);
    };
    CHECK(mine.next() == "000000021");
    CHECK(bucket.get("isa13")->value == "31");
  }

  TEST_CASE("the counter starts again at 1 after 999999999, and a block never crosses the top") {
    memory_kv bucket;
    (void)bucket.put("isa13", "999999998");
    control_numbers numbers(bucket, "isa13", 5);
    CHECK(numbers.next() == "999999998");
    CHECK(numbers.next() == "999999999");
    CHECK(numbers.next() == "000000001");
  }

  TEST_CASE("a key that does not hold a number in range is refused, not overwritten") {
    for (const std::string bad : {"", "0", "x1", "1000000000", "12 "}) {
      memory_kv bucket;
      (void)bucket.put("isa13", bad);
      control_numbers numbers(bucket, "isa13");
      CHECK_THROWS_AS((void)numbers.next(), std::runtime_error);
      CHECK(bucket.get("isa13")->value == bad);
    }
  }

  TEST_CASE("an unanswered bucket is an error, and the next call tries again") {
    memory_kv bucket;
    control_numbers numbers(bucket, "isa13", 2);
    bucket.fail_writes = true;
    CHECK_THROWS_AS((void)numbers.next(), nats_error);
    bucket.fail_writes = false;
    CHECK(numbers.next() == "000000001");
  }
}
