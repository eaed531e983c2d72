#include "covgate/cluster/subjects.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include "covgate/cluster/partition_key.hpp"

using namespace covgate::cluster;

TEST_SUITE("cluster.subjects") {
  TEST_CASE("a producer subject carries the partition key and the kind, nothing else") {
    const auto pkey = partition_key("s", "1EG4-TE5-MK73");
    CHECK(producer_subject(pkey, message_kind::claim) == "cg.in." + pkey + ".clm");
    CHECK(producer_subject(pkey, message_kind::hl7v2) == "cg.in." + pkey + ".hl7");
    CHECK(producer_subject(pkey, message_kind::fhir) == "cg.in." + pkey + ".fhir");
    CHECK(producer_subject(pkey, message_kind::rekey) == "cg.in." + pkey + ".rekey");
    CHECK(producer_subject(pkey, message_kind::review) == "cg.in." + pkey + ".rev");
  }

  TEST_CASE("a mapped subject's kind is read back from its last token, and only from there") {
    const auto pkey = partition_key("s", "1EG4-TE5-MK73");
    CHECK(kind_of_subject("cg.p.7." + pkey + ".rev") == message_kind::review);
    CHECK(kind_of_subject("cg.p.0." + pkey + ".clm") == message_kind::claim);
    CHECK(kind_of_subject("cg.p.63." + pkey + ".fhir") == message_kind::fhir);
    CHECK(kind_of_subject("cg.p.1." + pkey + ".hl7") == message_kind::hl7v2);
    CHECK(kind_of_subject("cg.p.1." + pkey + ".rekey") == message_kind::rekey);
    CHECK_FALSE(kind_of_subject("cg.p.1." + pkey + ".review"));  // not a kind's token
    CHECK_FALSE(kind_of_subject("cg.p.1." + pkey + ".x.rev"));   // one token too many
    CHECK_FALSE(kind_of_subject("cg.p.1.rev"));
    CHECK_FALSE(kind_of_subject("cg.in." + pkey + ".rev"));  // not mapped onto a partition
    CHECK_FALSE(kind_of_subject("cg.p.x." + pkey + ".rev"));
    CHECK_FALSE(kind_of_subject(""));
  }

  TEST_CASE("a producer subject refuses anything but a partition key in the key place") {
    CHECK_THROWS_AS((void)producer_subject("1EG4-TE5-MK73", message_kind::claim),
                    std::invalid_argument);
    CHECK_THROWS_AS((void)producer_subject("a.b", message_kind::claim), std::invalid_argument);
    CHECK_THROWS_AS((void)producer_subject("", message_kind::claim), std::invalid_argument);
  }

  TEST_CASE("the server mapping line partitions on the key token and keeps both tokens") {
    CHECK(partition_mapping_line(64) ==
          R"("cg.in.*.*": "cg.p.{{partition(64,1)}}.{{wildcard(1)}}.{{wildcard(2)}}")");
    CHECK(partition_mapping_line(1) ==
          R"("cg.in.*.*": "cg.p.{{partition(1,1)}}.{{wildcard(1)}}.{{wildcard(2)}}")");
    CHECK_THROWS_AS((void)partition_mapping_line(0), std::invalid_argument);
    CHECK_THROWS_AS((void)partition_mapping_line(max_partitions + 1), std::invalid_argument);
  }

  TEST_CASE("a token's partition is FNV-1a (32 bits) modulo the count, as the servers compute it") {
    // FNV-1a test vectors: "a" 0xe40c292c, "foobar" 0xbf9cf968 (whether nats-server routes a
    // token there is checked against the servers by the cluster test).
    CHECK(partition_of_token("a", 1024) == 0xe40c292c % 1024);
    CHECK(partition_of_token("foobar", 64) == 0xbf9cf968 % 64);
    CHECK(partition_of_token("foobar", 1000) == 720);
    CHECK(partition_of_token("", 8) == 0x811c9dc5 % 8);
    CHECK(partition_of_token("foobar", 1) == 0);
    CHECK_THROWS_AS((void)partition_of_token("a", 0), std::invalid_argument);
    CHECK_THROWS_AS((void)partition_of_token("a", max_partitions + 1), std::invalid_argument);
  }

  TEST_CASE("streams, filters, consumers and lease keys") {
    CHECK(in_stream_subject() == "cg.p.>");
    CHECK(out_stream_subject() == "cg.out.>");
    CHECK(reference_stream_subject() == "cg.ref.>");
    CHECK(wait_stream_subject() == "cg.wait.>");
    const std::string token(32, 'b');
    CHECK(wait_subject(token, message_kind::hl7v2) == "cg.wait." + token + ".hl7");
    CHECK(kind_of_wait_subject(wait_subject(token, message_kind::fhir)) == message_kind::fhir);
    CHECK_FALSE(kind_of_wait_subject("cg.wait." + token + ".rev"));  // only what a front holds
    CHECK_FALSE(kind_of_wait_subject("cg.wait.Patient-123.fhir"));
    CHECK_FALSE(kind_of_wait_subject("cg.in." + token + ".fhir"));
    CHECK_THROWS_AS((void)wait_subject("Patient/123", message_kind::fhir), std::invalid_argument);
    CHECK(wait_subjects_of(token) == "cg.wait." + token + ".*");
    CHECK_THROWS_AS((void)wait_subjects_of("Patient.*"), std::invalid_argument);
    const auto subject = wait_subject(token, message_kind::hl7v2);
    const auto parts = parse_wait_subject(subject);
    REQUIRE(parts);
    CHECK(parts->identity_token == token);
    CHECK(parts->kind == message_kind::hl7v2);
    CHECK_FALSE(parse_wait_subject("cg.wait." + token));
    CHECK_FALSE(parse_wait_subject("cg.wait." + token + "."));
    CHECK(reference_subject(message_kind::fhir) == "cg.ref.fhir");
    CHECK(reference_subject(message_kind::hl7v2) == "cg.ref.hl7");
    CHECK(reference_partition >= max_partitions);  // never a partition's own position
    CHECK_FALSE(kind_of_subject(reference_subject(message_kind::fhir)));
    CHECK(partition_filter_subject(0) == "cg.p.0.>");
    CHECK(partition_filter_subject(63) == "cg.p.63.>");
    CHECK(partition_consumer(0, 64) == "part-00");
    CHECK(partition_consumer(7, 8) == "part-07");
    CHECK(partition_consumer(63, 64) == "part-63");
    CHECK(partition_consumer(99, 100) == "part-99");
    CHECK(partition_consumer(5, 128) == "part-0005");
    CHECK_THROWS_AS((void)partition_consumer(8, 8), std::invalid_argument);
    CHECK_THROWS_AS((void)partition_consumer(-1, 8), std::invalid_argument);
    CHECK(lease_key(12) == "part-12");
    CHECK_THROWS_AS((void)partition_filter_subject(-1), std::invalid_argument);
  }

  TEST_CASE("the partition of a mapped subject, and -1 for other shapes") {
    CHECK(partition_of_subject("cg.p.0.abc.clm") == 0);
    CHECK(partition_of_subject("cg.p.63.abc.clm") == 63);
    CHECK(partition_of_subject("cg.p.x.abc.clm") == -1);
    CHECK(partition_of_subject("cg.p.1x.abc.clm") == -1);
    CHECK(partition_of_subject("cg.p..abc") == -1);
    CHECK(partition_of_subject("cg.p.5") == -1);
    CHECK(partition_of_subject("cg.in.abc.clm") == -1);
    CHECK(partition_of_subject("cg.p.-1.abc.clm") == -1);
    CHECK(partition_of_subject("cg.p.1024.abc.clm") == -1);
  }

  TEST_CASE("worker ids are short KV-key-safe names") {
    CHECK(is_worker_id("w1"));
    CHECK(is_worker_id("worker_2-east"));
    CHECK_FALSE(is_worker_id(""));
    CHECK_FALSE(is_worker_id("w.1"));
    CHECK_FALSE(is_worker_id("w 1"));
    CHECK_FALSE(is_worker_id("w\"1"));
    CHECK_FALSE(is_worker_id(std::string(65, 'w')));
    CHECK(is_worker_id(std::string(64, 'w')));
  }

  TEST_CASE("a release subject carries a release token, nothing else") {
    CHECK(release_subject("0123456789abcdef0123456789abcdef") ==
          "cg.out.rel.0123456789abcdef0123456789abcdef");
    CHECK_THROWS_AS((void)release_subject("PUMP001-2"), std::invalid_argument);
    CHECK_THROWS_AS((void)release_subject(""), std::invalid_argument);
  }
}
