#include "covgate/model/claim_key.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace covgate;

TEST_SUITE("model.claim_key") {
  TEST_CASE("a claim is keyed by CLM01 and billing NPI; without an NPI by CLM01 alone") {
    model::claim c;
    c.id = "PUMP001";
    CHECK(model::claim_key(c) == "PUMP001");
    c.billing.npi = "1999999984";
    const auto key = model::claim_key(c);
    CHECK(key == std::string("PUMP001\x1F"
                             "1999999984"));
    CHECK(key == model::claim_key("PUMP001", "1999999984"));
    std::string appended = "x";
    model::append_claim_key(appended, c);
    CHECK(appended == "x" + key);
    const auto parts = model::split_claim_key(key);
    CHECK(parts.clm01 == "PUMP001");
    CHECK(parts.billing_npi == "1999999984");
    CHECK(model::split_claim_key("PUMP001").clm01 == "PUMP001");
    CHECK(model::split_claim_key("PUMP001").billing_npi.empty());
  }

  TEST_CASE("the keys of one CLM01 form a range that holds no other CLM01") {
    const auto range = model::claim_keys_of("A1");
    const auto in = [&](const std::string& key) { return key >= range.first && key < range.last; };
    CHECK(in(model::claim_key("A1", "")));
    CHECK(in(model::claim_key("A1", "1111111112")));
    CHECK(in(model::claim_key("A1", "~~~")));  // the highest printable NPI
    // Every printable byte after "A1" sorts at or past the range's end: another CLM01.
    for (char next = ' '; next <= '~'; ++next) {
      CHECK_FALSE(in(std::string("A1") + next));
      CHECK_FALSE(in(model::claim_key(std::string("A1") + next, "1111111112")));
    }
    CHECK_FALSE(in("A"));
    CHECK_FALSE(in(model::claim_key("A", "1111111112")));
  }

  TEST_CASE("a delivery key is the NPI, '_' and CLM01-sequence: one per provider's claim") {
    model::claim c;
    c.id = "PUMP001";
    CHECK(model::delivery_key(c, 2) == "PUMP001-2");
    c.billing.npi = "1999999984";
    CHECK(model::delivery_key(c, 2) == "1999999984_PUMP001-2");
    CHECK(model::delivery_prefix(model::claim_key(c)) == "1999999984_PUMP001");
    CHECK(model::delivery_prefix("PUMP001") == "PUMP001");
    auto other = c;
    other.billing.npi = "1111111112";
    CHECK(model::delivery_key(other, 2) != model::delivery_key(c, 2));
  }
}
