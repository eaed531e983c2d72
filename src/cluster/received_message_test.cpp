#include "covgate/cluster/received_message.hpp"

#include <doctest/doctest.h>

#include "covgate/server/claims_view.hpp"

using namespace covgate;
using namespace covgate::cluster;

namespace {

const std::string pkey = "0123456789abcdef0123456789abcdef";

stored_message stored(std::string subject, std::string data) {
  stored_message m;
  m.sequence = 4711;
  m.stored_ms = 1'780'000'000'123;
  m.subject = std::move(subject);
  m.data = std::move(data);
  return m;
}

}  // namespace

TEST_SUITE("cluster.received_message") {
  TEST_CASE("a CG_IN message is shown as the worker that applied it journaled it") {
    const auto claim = received_message_of(stored("cg.p.3." + pkey + ".clm", "ISA*00*x~"));
    REQUIRE(claim);
    CHECK(claim->id == 4711);
    CHECK(claim->received_ms == 1'780'000'000'123);
    CHECK(claim->channel == "nats");
    CHECK(claim->sender == "part-3:4711");
    CHECK(claim->kind == "x12");
    CHECK(claim->body == "ISA*00*x~");
    CHECK(claim->received_bytes == 9);
    CHECK(claim->digest.empty());
    CHECK(server::claims_view::message_json_of(*claim) ==
          R"({"id":4711,"received":"2026-05-28T20:26:40Z","channel":"nats",)"
          R"("peer":"part-3:4711","kind":"x12","bytes":9,"truncated":false,"digest":"",)"
          R"("body":"ISA*00*x~"})");
    CHECK(received_message_of(stored("cg.p.0." + pkey + ".fhir", "{}"))->kind == "fhir");
    CHECK(received_message_of(stored("cg.p.63." + pkey + ".hl7", "MSH|^~\\&|"))->kind == "hl7v2");
    // What the stream carries that nobody sent as a message.
    CHECK_FALSE(received_message_of(stored("cg.p.7." + pkey + ".rev", "{}")));
    CHECK_FALSE(received_message_of(stored("cg.p.7." + pkey + ".rekey", "{}")));
    CHECK_FALSE(received_message_of(stored("cg.out.x", "ISA")));
    CHECK_FALSE(received_message_of(stored("cg.p.x." + pkey + ".clm", "ISA")));
  }
}
