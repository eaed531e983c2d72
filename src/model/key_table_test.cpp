#include "covgate/model/key_table.hpp"

#include <doctest/doctest.h>

#include <map>
#include <random>

using covgate::model::key_table;

TEST_SUITE("model.key_table") {
  TEST_CASE("an entry is found by its key, kept on a second insert, gone once erased") {
    key_table t;
    CHECK(t.find(7) == key_table::no_value);
    CHECK_FALSE(t.erase(7));
    t.prefetch(7);  // an empty table: nothing to fetch, no slot read
    CHECK(t.insert(7, 70));
    CHECK_FALSE(t.insert(7, 71));
    CHECK(t.find(7) == 70);  // still the first value
    CHECK(t.size() == 1);
    CHECK(t.erase(7));
    CHECK(t.find(7) == key_table::no_value);
    CHECK(t.size() == 0);
    CHECK(t.insert(0, 0));  // key and value 0 are entries like any other
    CHECK(t.find(0) == 0);
    t.clear();
    CHECK(t.find(0) == key_table::no_value);
    CHECK(t.size() == 0);
  }

  TEST_CASE("keys of one home slot stay reachable as those before them are erased") {
    // Keys equal modulo the table's size probe one run of slots; erasing from its front,
    // middle and end shifts the rest back without losing one, the run wrapping past the end.
    for (const std::uint32_t first : {0u, 14u, 15u}) {
      CAPTURE(first);
      key_table t;
      for (std::uint32_t i = 0; i < 6; ++i) REQUIRE(t.insert(first + 16 * i, i));
      for (const std::uint32_t gone : {0u, 3u, 5u}) {
        REQUIRE(t.erase(first + 16 * gone));
        for (std::uint32_t i = 0; i < 6; ++i) {
          const bool erased = i == 0 || (gone >= 3 && i == 3) || (gone == 5 && i == 5);
          CHECK(t.find(first + 16 * i) == (erased ? key_table::no_value : i));
        }
      }
      CHECK(t.size() == 3);
    }
  }

  TEST_CASE("agrees with std::map over random inserts and erases through growth") {
    key_table t;
    std::map<std::uint32_t, std::uint32_t> expected;
    std::mt19937 random(20261207);
    for (int step = 0; step < 200000; ++step) {
      // Keys from a narrow range (long probe runs, many repeats) and from the whole range.
      const auto key = step % 3 == 0 ? static_cast<std::uint32_t>(random())
                                     : static_cast<std::uint32_t>(random() % 4096) * 1024;
      if (random() % 3 == 0) {
        CHECK(t.erase(key) == (expected.erase(key) > 0));
      } else {
        const auto value = static_cast<std::uint32_t>(step);
        CHECK(t.insert(key, value) == expected.emplace(key, value).second);
      }
      if (step % 9973 == 0) {
        for (const auto& [k, v] : expected) REQUIRE(t.find(k) == v);
      }
    }
    CHECK(t.size() == expected.size());
    for (const auto& [k, v] : expected) CHECK(t.find(k) == v);
  }
}
