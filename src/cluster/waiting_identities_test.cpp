#include "covgate/cluster/waiting_identities.hpp"

#include <doctest/doctest.h>

using namespace covgate::cluster;

TEST_SUITE("cluster.waiting_identities") {
  TEST_CASE("CG_WAIT's subjects are counted per identity, the most messages first") {
    const std::string a(32, 'a'), b(32, 'b'), c(32, 'c');
    const auto listing = group_waiting({{"cg.wait." + b + ".fhir", 2},
                                        {"cg.wait." + a + ".hl7", 1},
                                        {"cg.wait." + a + ".fhir", 3},
                                        {"cg.wait." + c + ".hl7", 4},
                                        {"cg.wait." + c + ".nope", 9},  // not a wait subject
                                        {"cg.wait.short.fhir", 9},
                                        {"cg.p.1." + a + ".fhir", 9},
                                        {"cg.wait." + b + ".hl7", 0}});
    CHECK(listing.messages == 10);
    CHECK(listing.identities == 3);
    REQUIRE(listing.listed.size() == 3);
    CHECK(listing.listed[0].token == a);  // 4, before c's 4 by token
    CHECK(listing.listed[0].messages == 4);
    CHECK(listing.listed[0].fhir == 3);
    CHECK(listing.listed[0].hl7v2 == 1);
    CHECK(listing.listed[1].token == c);
    CHECK(listing.listed[2].token == b);
    CHECK(listing.listed[2].hl7v2 == 0);
    CHECK(group_waiting({}).listed.empty());
  }

  TEST_CASE("the listing as JSON, dated or not") {
    waiting_listing listing;
    listing.messages = 3;
    listing.identities = 2;
    listing.listed.push_back({std::string(32, 'a'), 2, 2, 0, 1'780'000'000'000});
    listing.listed.push_back({std::string(32, 'b'), 1, 0, 1, 0});
    CHECK(waiting_json(listing, 1'780'000'090'500) ==
          R"({"messages":3,"identities":2,"listed":[{"token":")" + std::string(32, 'a') +
              R"(","messages":2,"fhir":2,"hl7v2":0,"oldest":"2026-05-28T20:26:40Z",)"
              R"("age_seconds":90},{"token":")" +
              std::string(32, 'b') +
              R"(","messages":1,"fhir":0,"hl7v2":1,"oldest":null,"age_seconds":null}]})");
  }
}
