#include "covgate/cluster/audit_query.hpp"

#include <doctest/doctest.h>

#include <string>

#include "support/query_reply.hpp"

namespace {

using covgate::cluster::audit_replies;
using covgate::cluster::partition_query_responder;

using covgate::test::header_of;

}  // namespace

TEST_SUITE("cluster.audit_query") {
  TEST_CASE("rows up to one answer go whole, with the partition answered for") {
    for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{10}}) {
      const auto replies = audit_replies(5, std::string(size, 'r'), true, 10, 40);
      REQUIRE(replies.size() == 1);
      CHECK(replies[0].body == std::string(size, 'r'));
      CHECK(header_of(replies[0], "Cg-Caught-Up") == "5");
      CHECK(header_of(replies[0], "Cg-Chunk") == "(none)");
      CHECK(header_of(replies[0], "Cg-Too-Large") == "(none)");
    }
  }

  TEST_CASE("larger rows go in chunks, only the last naming the partition answered for") {
    const std::string rows = "0123456789abcdefghijklmnopqrstuvwxyz0123";  // 40: the limit
    const auto replies = audit_replies(7, rows, true, 10, 40);
    REQUIRE(replies.size() == 4);
    std::string joined;
    for (std::size_t i = 0; i < replies.size(); ++i) {
      CAPTURE(i);
      joined += replies[i].body;
      CHECK(replies[i].body.size() == 10);
      CHECK(header_of(replies[i], "Cg-Audit-Partition") == "7");
      CHECK(header_of(replies[i], "Cg-Chunk") == std::to_string(i));
      CHECK(header_of(replies[i], "Cg-Chunks") == "4");
      CHECK(header_of(replies[i], "Cg-Caught-Up") == (i == 3 ? "7" : "(none)"));
    }
    CHECK(joined == rows);
    const auto uneven = audit_replies(7, rows.substr(0, 11), true, 10, 40);
    REQUIRE(uneven.size() == 2);
    CHECK(uneven[1].body == "a");
  }

  TEST_CASE("past the limit, or to an asker that takes no chunks, the size instead of rows") {
    const auto over = audit_replies(2, std::string(41, 'r'), true, 10, 40);
    REQUIRE(over.size() == 1);
    CHECK(over[0].body.empty());
    CHECK(header_of(over[0], "Cg-Too-Large") == "41");
    CHECK(header_of(over[0], "Cg-Caught-Up") == "2");
    const auto unchunked = audit_replies(2, std::string(11, 'r'), false, 10, 40);
    REQUIRE(unchunked.size() == 1);
    CHECK(header_of(unchunked[0], "Cg-Too-Large") == "11");
  }
}
