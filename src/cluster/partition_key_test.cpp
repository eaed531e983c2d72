#include "covgate/cluster/partition_key.hpp"

#include <doctest/doctest.h>

#include <set>
#include <stdexcept>

using covgate::cluster::canonical_patient_key;
using covgate::cluster::hold_token;
using covgate::cluster::identity_token;
using covgate::cluster::is_partition_key;
using covgate::cluster::partition_key;
using covgate::cluster::release_token;

// Expected values computed outside covgate with the OpenSSL command line, e.g.
//   printf '1EG4-TE5-MK73' | openssl dgst -sha256 -hmac 'cluster-secret-for-tests'
// and cut to the first 32 hex characters.
TEST_SUITE("cluster.partition_key") {
  TEST_CASE("matches HMAC-SHA-256 computed by openssl dgst, cut to 128 bits") {
    CHECK(partition_key("cluster-secret-for-tests", "1EG4-TE5-MK73") ==
          "1041e0180a8f037ac13ab4e108e3a7a2");
    CHECK(partition_key("k", "X") == "28a61e57d9fa6b8735ae149b524871a8");
    CHECK(partition_key("another secret", "MRN-0042@HOSP-A") == "6ccf2c86e23a94ba2eeb659229f164c9");
  }

  TEST_CASE("hashes the canonical key: blanks around it and letter case do not matter") {
    CHECK(canonical_patient_key("  1eg4-te5-mk73\r\n") == "1EG4-TE5-MK73");
    CHECK(canonical_patient_key("a b") == "A B");  // inner blanks are part of the key
    CHECK(partition_key("cluster-secret-for-tests", " 1eg4-TE5-mk73\t") ==
          "1041e0180a8f037ac13ab4e108e3a7a2");
  }

  TEST_CASE("another secret gives another token for the same patient") {
    CHECK(partition_key("secret-a", "1EG4-TE5-MK73") != partition_key("secret-b", "1EG4-TE5-MK73"));
  }

  TEST_CASE("is 32 lowercase hex characters, a valid NATS subject token") {
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
      const auto token = partition_key("s", "patient-" + std::to_string(i));
      CHECK(is_partition_key(token));
      CHECK(token.find_first_of(".*> \t") == std::string::npos);
      seen.insert(token);
    }
    CHECK(seen.size() == 200);
  }

  TEST_CASE("refuses an empty secret or an empty key, without echoing the key") {
    CHECK_THROWS_AS((void)partition_key("", "1EG4-TE5-MK73"), std::invalid_argument);
    CHECK_THROWS_AS((void)partition_key("s", "  \t"), std::invalid_argument);
    try {
      (void)partition_key("", "1EG4-TE5-MK73");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find("1EG4") == std::string::npos);
    }
  }

  TEST_CASE("is_partition_key accepts only the token's exact shape") {
    CHECK(is_partition_key("0123456789abcdef0123456789abcdef"));
    CHECK_FALSE(is_partition_key("0123456789ABCDEF0123456789abcdef"));   // upper case
    CHECK_FALSE(is_partition_key("0123456789abcdef0123456789abcde"));    // 31
    CHECK_FALSE(is_partition_key("0123456789abcdef0123456789abcdef0"));  // 33
    CHECK_FALSE(is_partition_key("0123456789abcdef0123456789abcdeg"));
    CHECK_FALSE(is_partition_key(""));
  }

  TEST_CASE("a release token is keyed, exact and apart from patient keys") {
    //   printf 'release\nPUMP001-2' | openssl dgst -sha256 -hmac 'cluster-secret-for-tests'
    CHECK(release_token("cluster-secret-for-tests", "PUMP001-2") ==
          "19662d8910e9fef05959bb635a1d243a");
    const auto token = release_token("s", "PUMP001-2");
    CHECK(is_partition_key(token));
    CHECK(token == release_token("s", "PUMP001-2"));  // every worker names the same subject
    CHECK(token != release_token("t", "PUMP001-2"));  // keyed
    CHECK(token != release_token("s", "pump001-2"));  // claim ids are taken as they are
    CHECK(token != release_token("s", "PUMP001-3"));  // another event of the claim
    CHECK(token != partition_key("s", "PUMP001-2"));  // never a patient's token
    CHECK_THROWS_AS((void)release_token("", "PUMP001-2"), std::invalid_argument);
    CHECK_THROWS_AS((void)release_token("s", ""), std::invalid_argument);
  }

  TEST_CASE("an identity token is keyed, exact and apart from patient keys and releases") {
    //   printf 'identity\nPatient/123' | openssl dgst -sha256 -hmac 'cluster-secret-for-tests'
    CHECK(identity_token("cluster-secret-for-tests", "Patient/123") ==
          "887b704bfe6242041ba4743b083a4275");
    const auto token = identity_token("s", "Patient/123");
    CHECK(is_partition_key(token));
    CHECK(token != identity_token("t", "Patient/123"));
    CHECK(token != identity_token("s", "Patient/124"));
    CHECK(token != partition_key("s", "Patient/123"));
    CHECK(token != release_token("s", "Patient/123"));
    CHECK_THROWS_AS((void)identity_token("", "Patient/123"), std::invalid_argument);
    CHECK_THROWS_AS((void)identity_token("s", ""), std::invalid_argument);
  }

  TEST_CASE("a hold token names a held message by its identity and bytes") {
    //   printf 'hold\nabc\n{"x":1}' | openssl dgst -sha256 -hmac 'cluster-secret-for-tests'
    CHECK(hold_token("cluster-secret-for-tests", "abc", R"({"x":1})") ==
          "dd4408178f4a02537df4a96379cb8617");
    const auto token = hold_token("s", "abc", "payload");
    CHECK(token == hold_token("s", "abc", "payload"));  // a repeat: the same message id
    CHECK(token != hold_token("s", "abd", "payload"));
    CHECK(token != hold_token("s", "abc", "payload2"));
    CHECK(token != hold_token("t", "abc", "payload"));
    CHECK_THROWS_AS((void)hold_token("", "abc", "payload"), std::invalid_argument);
    CHECK_THROWS_AS((void)hold_token("s", "", "payload"), std::invalid_argument);
  }
}
