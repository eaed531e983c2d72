#include "covgate/cluster/claim_list_query.hpp"

#include <doctest/doctest.h>

using namespace covgate;
using cluster::claim_list_page;
using cluster::claim_list_request;
using cluster::decode_claim_list_page;
using cluster::decode_claim_list_request;

TEST_SUITE("cluster.claim_list_query") {
  TEST_CASE("a list request travels whole: filters, sort, cursor, limit and the time") {
    claim_list_request r;
    r.now_ms = 1'780'000'000'000;
    r.query.result = model::outcome::hold_not_covered;
    r.query.reason = model::reason::modifier_missing;
    r.query.patient = "DOE, J";
    r.query.provider = "1999999984";
    r.query.sender = "line\nbreak=and\ttab";
    r.query.dos_from = "2026-01-01";
    r.query.dos_to = "2026-12-31";
    r.query.since_at_most_ms = 5;
    r.query.since_at_least_ms = -7;
    r.query.sort = store::claim_sort::charge;
    r.query.descending = true;
    r.query.after = std::pair{std::string("482155"), std::string("CLM.1")};
    r.query.limit = 250;
    const auto back = decode_claim_list_request(cluster::encode_claim_list_request(r));
    REQUIRE(back.has_value());
    CHECK(back->now_ms == r.now_ms);
    CHECK(back->query.result == r.query.result);
    CHECK_FALSE(back->query.released_since_ms.has_value());
    CHECK(back->query.reason == r.query.reason);
    CHECK(back->query.patient == r.query.patient);
    CHECK(back->query.provider == r.query.provider);
    CHECK(back->query.sender == r.query.sender);
    CHECK(back->query.dos_from == r.query.dos_from);
    CHECK(back->query.dos_to == r.query.dos_to);
    CHECK(back->query.since_at_most_ms == r.query.since_at_most_ms);
    CHECK(back->query.since_at_least_ms == r.query.since_at_least_ms);
    CHECK(back->query.sort == r.query.sort);
    CHECK(back->query.descending);
    CHECK(back->query.after == r.query.after);
    CHECK(back->query.limit == 250);

    claim_list_request released;
    released.query.released_since_ms = 42;
    const auto plain = decode_claim_list_request(cluster::encode_claim_list_request(released));
    REQUIRE(plain.has_value());
    CHECK(plain->query.released_since_ms == 42);
    CHECK_FALSE(plain->query.result.has_value());
    CHECK(plain->query.sort == store::claim_sort::id);
    CHECK(plain->query.limit == 100);
  }

  TEST_CASE("a list request that is not one is refused whole") {
    for (const auto* text : {
             "",
             "outcome=1\nsort=0\nlimit=5\n",                     // no time
             "now=1\nsort=0\nlimit=5\n",                         // no queue
             "now=1\noutcome=1\nsort=0\n",                       // no limit
             "now=1\noutcome=1\nsort=0\nlimit=0\n",              // limit out of range
             "now=1\noutcome=1\nsort=0\nlimit=10001\n",          //
             "now=1\noutcome=9\nsort=0\nlimit=5\n",              // no such outcome
             "now=1\noutcome=1\nreleased=5\nsort=0\nlimit=5\n",  // two queues
             "now=1\noutcome=1\noutcome=1\nsort=0\nlimit=5\n",   // a name twice
             "now=1\noutcome=1\nsort=99\nlimit=5\n",             // no such sort
             "now=1\noutcome=1\nsort=0\nlimit=5\npatient=zz\n",  // not hex
             "now=1\noutcome=1\nsort=0\nlimit=5\nafter=61\n",    // no id
             "now=1\noutcome=1\nsort=0\nlimit=5\ncolour=red\n",  // unknown name
             "now=x\noutcome=1\nsort=0\nlimit=5\n",
         }) {
      CAPTURE(std::string(text));
      CHECK_FALSE(decode_claim_list_request(text).has_value());
    }
  }

  TEST_CASE("a page travels whole, and a damaged one is refused") {
    claim_list_page page;
    page.totals = {{0, 12}, {5, 3}};
    page.rows.push_back({5, "482155", "CLM-1", R"({"id":"CLM-1","note":"a\tb"})"});
    page.rows.push_back({0, "", "CLM-2", R"({"id":"CLM-2"})"});
    const auto back = decode_claim_list_page(cluster::encode_claim_list_page(page), 8);
    REQUIRE(back.has_value());
    CHECK(back->totals == page.totals);
    REQUIRE(back->rows.size() == 2);
    CHECK(back->rows[0].partition == 5);
    CHECK(back->rows[0].sort_value == "482155");
    CHECK(back->rows[0].id == "CLM-1");
    CHECK(back->rows[0].json == page.rows[0].json);
    CHECK(back->rows[1].sort_value.empty());
    const auto empty = decode_claim_list_page("\n", 8);
    REQUIRE(empty.has_value());
    CHECK(empty->rows.empty());
    CHECK_FALSE(decode_claim_list_page(cluster::encode_claim_list_page(page), 5).has_value());
    for (const auto* text : {"", "0:1\n", "0:1;0:2;\n", "9:1;\n", "0:x;\n", "\n0\t31\t\t{}\n",
                             "\n0\t31\t434c4d\t\n", "\n0\t3\t434c4d\t{}\n", "\n0\t31\n"}) {
      CAPTURE(std::string(text));
      CHECK_FALSE(decode_claim_list_page(text, 8).has_value());
    }
  }

  TEST_CASE("rows merge in the query's order: numbers as numbers, texts as bytes, then ids") {
    const cluster::listed_claim nine{0, "9", "B", ""}, ten{1, "10", "A", ""},
        ten_again{1, "10", "C", ""};
    using store::claim_sort;
    CHECK(cluster::listed_before(nine, ten, claim_sort::charge, false));
    CHECK(cluster::listed_before(ten, ten_again, claim_sort::charge, false));
    CHECK(cluster::listed_before(ten_again, ten, claim_sort::charge, true));
    CHECK(cluster::listed_before(ten, nine, claim_sort::name, false));  // "10" < "9" as text
    CHECK(cluster::listed_before(ten, nine, claim_sort::id, false));    // by id only
    cluster::claim_list_merge merge(claim_sort::charge, true, 2);
    claim_list_page first, second;
    first.totals = {{0, 1}};
    first.rows = {nine};
    second.totals = {{0, 5}, {1, 2}};
    second.rows = {ten, nine, ten_again};
    merge.add(first, {0});
    merge.add(second, {1});  // its partition 0 was answered for already
    CHECK(merge.total() == 3);
    const auto rows = merge.rows();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].id == "C");
    CHECK(rows[1].id == "A");
  }
}
