#include "covgate/cluster/claim_lookup.hpp"

#include <doctest/doctest.h>

#include <string>

#include <vector>
#include "support/query_reply.hpp"

namespace {

using covgate::cluster::claim_batch_replies;
using covgate::cluster::claim_lookup_answer;
using covgate::cluster::max_lookup_batch;
using covgate::cluster::max_lookup_claim_id;
using covgate::cluster::partition_query_responder;

using covgate::test::header_of;

}  // namespace

TEST_SUITE("cluster.claim_lookup") {
  TEST_CASE("a batch is answered with each claim held, by its line, then what was checked") {
    std::vector<std::string> asked;
    const auto replies = claim_batch_replies("A\nB\n\nC\n", [&](std::string_view id) {
      asked.emplace_back(id);
      claim_lookup_answer a;
      a.caught_up = {3, 1, 2};
      if (id != "B") a.claim = "claim " + std::string(id);
      return a;
    });
    CHECK(asked == std::vector<std::string>{"A", "B", "C"});  // the empty line is not asked
    REQUIRE(replies.size() == 3);
    CHECK(replies[0].body == "claim A");
    CHECK(header_of(replies[0], "Cg-Held") == "yes");
    CHECK(header_of(replies[0], "Cg-Index") == "0");
    CHECK(header_of(replies[0], "Cg-Caught-Up") == "(none)");  // claims never say they cover
    CHECK(replies[1].body == "claim C");
    CHECK(header_of(replies[1], "Cg-Index") == "3");  // the line, counting the empty one
    CHECK(header_of(replies[2], "Cg-Held") == "no");
    CHECK(header_of(replies[2], "Cg-Caught-Up") == "1,2,3");
    CHECK(replies[2].body.empty());
  }

  TEST_CASE("a claim's reply names its billing NPI and the CLM01's other NPIs held, in hex") {
    const auto replies = claim_batch_replies("P1\nP2\n", [&](std::string_view id) {
      claim_lookup_answer a;
      a.claim = "claim " + std::string(id);
      a.billing_npi = "1111111112";
      if (id == "P1") a.also_billed_by = {"2222222223", "3,4"};
      return a;
    });
    REQUIRE(replies.size() == 3);
    CHECK(header_of(replies[0], "Cg-Billing-Npi") == "31313131313131313132");
    CHECK(header_of(replies[0], "Cg-Also-Billed-By") == "32323232323232323233,332c34");
    CHECK(header_of(replies[1], "Cg-Billing-Npi") == "31313131313131313132");
    CHECK(header_of(replies[1], "Cg-Also-Billed-By") == "(none)");
    CHECK(header_of(replies[2], "Cg-Billing-Npi") == "(none)");  // the last: what was checked
    // A claim without a billing NPI names none (nats.c refuses an empty header value); among
    // the others, such a claim is "-", which no hex text is.
    const auto unnamed = claim_batch_replies("P3", [&](std::string_view) {
      claim_lookup_answer a;
      a.claim = "claim";
      a.also_billed_by = {"", "1"};
      return a;
    });
    REQUIRE(unnamed.size() == 2);
    CHECK(header_of(unnamed[0], "Cg-Billing-Npi") == "(none)");
    CHECK(header_of(unnamed[0], "Cg-Also-Billed-By") == "-,31");
  }

  TEST_CASE("a partition counts as checked only when it was caught up at every id's check") {
    int call = 0;
    const auto replies = claim_batch_replies("A\nB\nC", [&](std::string_view) {
      claim_lookup_answer a;
      // Partition 5 caught up after the first id, partition 0 handed over before the last.
      a.caught_up = call == 0   ? std::vector<int>{0, 1}
                    : call == 1 ? std::vector<int>{0, 1, 5}
                                : std::vector<int>{1, 5};
      ++call;
      return a;
    });
    REQUIRE(replies.size() == 1);
    CHECK(header_of(replies[0], "Cg-Caught-Up") == "1");
  }

  TEST_CASE("ids no claim can have are skipped; a batch past the limit is answered for none") {
    std::vector<std::string> asked;
    const auto record = [&](std::string_view id) {
      asked.emplace_back(id);
      return claim_lookup_answer{std::nullopt, {0}, {}, {}};
    };
    const auto replies =
        claim_batch_replies(std::string(max_lookup_claim_id + 1, 'X') + "\nok", record);
    CHECK(asked == std::vector<std::string>{"ok"});
    REQUIRE(replies.size() == 1);
    CHECK(header_of(replies[0], "Cg-Caught-Up") == "0");
    std::string many;
    for (std::size_t i = 0; i <= max_lookup_batch; ++i) many += "id" + std::to_string(i) + "\n";
    CHECK(claim_batch_replies(many, record).empty());  // the asker hears nothing: unavailable
    // Nothing asked at all: no partition is said to be checked.
    const auto none = claim_batch_replies("", record);
    REQUIRE(none.size() == 1);
    CHECK(header_of(none[0], "Cg-Caught-Up") == "(none)");
  }
}
