#include "covgate/cluster/identity_map.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "covgate/cluster/partition_key.hpp"
#include "support/memory_kv.hpp"

using namespace covgate::cluster;

namespace {

constexpr std::string_view secret = "identity-map-test-secret";

// The CG_WAIT side, in memory: holds by token, forwarded to a pkey's partition.
struct waiting_room {
  std::map<std::string, std::vector<std::string>> held;        // token → messages
  std::vector<std::pair<std::string, std::string>> forwarded;  // (message, pkey), in order
  int forwards = 0;
  bool fail = false;

  identity_map::forwarder forwarder() {
    return [this](const std::string& token, const std::string& pkey) {
      ++forwards;
      if (fail) throw nats_error("forward: timeout (test)", true);
      for (auto& m : held[token]) forwarded.emplace_back(std::move(m), pkey);
      held.erase(token);
    };
  }
};

// What a front does with one message of facts of `identity`.
void route_message(identity_map& map, waiting_room& room, std::string_view identity,
                   const std::string& message,
                   std::vector<std::pair<std::string, std::string>>& sent) {
  if (const auto pkey = map.route(identity)) {
    sent.emplace_back(message, *pkey);
    return;
  }
  room.held[map.token_of(identity)].push_back(message);
  map.held(identity);
}

}  // namespace

TEST_SUITE("cluster.identity_map") {
  TEST_CASE("facts that came first wait and are forwarded once their patient is linked") {
    memory_kv kv;
    waiting_room room;
    identity_map map(kv, std::string(secret), room.forwarder());
    const auto pkey = partition_key(secret, "1EG4TE5MK73");
    std::vector<std::pair<std::string, std::string>> sent;
    route_message(map, room, "Patient/123", "lab 1", sent);
    route_message(map, room, "Patient/123", "lab 2", sent);
    CHECK(sent.empty());
    CHECK(kv.peek(map.token_of("Patient/123"))->value.empty());  // "facts wait"
    CHECK(room.forwards == 0);

    map.link("Patient/123", pkey);
    CHECK(room.forwards == 1);
    REQUIRE(room.forwarded.size() == 2);
    CHECK(room.forwarded[0] == std::pair<std::string, std::string>{"lab 1", pkey});
    CHECK(room.forwarded[1] == std::pair<std::string, std::string>{"lab 2", pkey});
    CHECK(kv.peek(map.token_of("Patient/123"))->value == pkey);  // nothing waits now

    route_message(map, room, "Patient/123", "lab 3", sent);  // straight to the patient
    CHECK(sent == std::vector<std::pair<std::string, std::string>>{{"lab 3", pkey}});
    CHECK(room.forwards == 1);
  }

  TEST_CASE("a patient linked first routes its facts at once; nothing is forwarded") {
    memory_kv kv;
    waiting_room room;
    identity_map front_a(kv, std::string(secret), room.forwarder());
    identity_map front_b(kv, std::string(secret), room.forwarder());
    const auto pkey = partition_key(secret, "1EG4TE5MK73");
    front_a.link("Patient/pid-7", pkey);
    CHECK(kv.peek(front_a.token_of("Patient/pid-7"))->value == pkey);
    std::vector<std::pair<std::string, std::string>> sent;
    route_message(front_b, room, "Patient/pid-7", "lab", sent);
    CHECK(sent.size() == 1);
    CHECK(room.forwards == 0);
    CHECK(kv.keys().size() == 1);  // the identity never appears, only its token
    CHECK(kv.keys().front() == identity_token(secret, "Patient/pid-7"));
  }

  TEST_CASE("linked_to reads a link and never marks an identity waiting") {
    memory_kv kv;
    waiting_room room;
    identity_map map(kv, std::string(secret), room.forwarder());
    const auto pkey = partition_key(secret, "1EG4TE5MK73");
    CHECK_FALSE(map.linked_to("Patient/1").has_value());
    CHECK(kv.keys().empty());                           // unknown, and left unknown
    REQUIRE_FALSE(map.route("Patient/2").has_value());  // facts of it wait
    CHECK_FALSE(map.linked_to("Patient/2").has_value());
    CHECK(kv.peek(map.token_of("Patient/2"))->value.empty());
    map.link("Patient/1", pkey);
    CHECK(map.linked_to("Patient/1") == pkey);
    // Linked while facts waited: what waited is forwarded before the link is answered.
    room.held[map.token_of("Patient/2")].push_back("late lab");
    room.fail = true;
    CHECK_THROWS(map.link("Patient/2", pkey));  // the forward fails: "<pkey>:forward" stays
    room.fail = false;
    CHECK(map.linked_to("Patient/2") == pkey);
    REQUIRE(room.forwarded.size() == 1);
    CHECK(room.forwarded[0].second == pkey);
    CHECK(kv.peek(map.token_of("Patient/2"))->value == pkey);
  }

  TEST_CASE("a hold stored after the linking front read CG_WAIT is forwarded by its own front") {
    memory_kv kv;
    waiting_room room;
    identity_map linking(kv, std::string(secret), room.forwarder());
    identity_map holding(kv, std::string(secret), room.forwarder());
    const auto pkey = partition_key(secret, "1EG4TE5MK73");
    // The holding front saw no link and is about to store its hold...
    REQUIRE_FALSE(holding.route("Patient/9").has_value());
    // ...when the linking front links and forwards what waits (nothing yet).
    linking.link("Patient/9", pkey);
    CHECK(room.forwarded.empty());
    room.held[holding.token_of("Patient/9")].push_back("late lab");
    holding.held("Patient/9");  // sees the link: forwards its own hold
    REQUIRE(room.forwarded.size() == 1);
    CHECK(room.forwarded[0].second == pkey);
  }

  TEST_CASE("a forward that fails is finished by the next front to meet the identity") {
    memory_kv kv;
    waiting_room room;
    identity_map a(kv, std::string(secret), room.forwarder());
    identity_map b(kv, std::string(secret), room.forwarder());
    const auto pkey = partition_key(secret, "1EG4TE5MK73");
    std::vector<std::pair<std::string, std::string>> sent;
    route_message(a, room, "Patient/5", "lab 1", sent);
    room.fail = true;
    CHECK_THROWS_AS(a.link("Patient/5", pkey), nats_error);  // the sender is told to resend
    CHECK(kv.peek(a.token_of("Patient/5"))->value == pkey + ":forward");
    room.fail = false;
    route_message(b, room, "Patient/5", "lab 2", sent);
    // What waited went first, then the new message: a resource's versions keep their order.
    REQUIRE(room.forwarded.size() == 1);
    CHECK(room.forwarded[0].first == "lab 1");
    CHECK(sent == std::vector<std::pair<std::string, std::string>>{{"lab 2", pkey}});
    CHECK(kv.peek(a.token_of("Patient/5"))->value == pkey);
    // The sender sends the linking message again: nothing is left to do.
    a.link("Patient/5", pkey);
    CHECK(room.forwarded.size() == 1);
  }

  TEST_CASE("an identity linked to another patient routes later facts there; filed ones stay") {
    memory_kv kv;
    waiting_room room;
    identity_map map(kv, std::string(secret), room.forwarder());
    const auto old_key = partition_key(secret, "1EG4TE5MK73");
    const auto new_key = partition_key(secret, "2EG4TE5MK74");
    map.link("Patient/1", old_key);
    map.link("Patient/1", new_key);
    CHECK(kv.peek(map.token_of("Patient/1"))->value == new_key);
    CHECK(map.route("Patient/1") == new_key);
    CHECK(room.forwards == 0);
  }

  TEST_CASE("a link this front made is not written again while it remembers it") {
    memory_kv kv;
    waiting_room room;
    identity_map remembering(kv, std::string(secret), room.forwarder());
    identity_map forgetful(kv, std::string(secret), room.forwarder(), 0);
    const auto pkey = partition_key(secret, "1EG4TE5MK73");
    remembering.link("Patient/1", pkey);
    const auto reads = kv.reads_tried;
    const auto writes = kv.writes_tried;
    remembering.link("Patient/1", pkey);
    CHECK(kv.reads_tried == reads);
    CHECK(kv.writes_tried == writes);
    forgetful.link("Patient/1", pkey);  // reads, finds it linked, writes nothing
    CHECK(kv.reads_tried == reads + 1);
    CHECK(kv.writes_tried == writes);
  }

  TEST_CASE("a lost compare-and-set is read again, not an error") {
    memory_kv kv;
    waiting_room room;
    identity_map map(kv, std::string(secret), room.forwarder());
    const auto pkey = partition_key(secret, "1EG4TE5MK73");
    // Another front links the identity between this front's read and its create.
    kv.before_next_write = [&] { (void)kv.create(map.token_of("Patient/2"), pkey); };
    CHECK(map.route("Patient/2") == pkey);
    // Another front holds facts between this front's read and its link.
    kv.before_next_write = [&] { (void)kv.create(map.token_of("Patient/3"), ""); };
    room.held[map.token_of("Patient/3")].push_back("lab");
    map.link("Patient/3", pkey);
    CHECK(room.forwarded.size() == 1);
    CHECK(kv.peek(map.token_of("Patient/3"))->value == pkey);
  }

  TEST_CASE("an entry no front writes, and a key that is not a partition key, are errors") {
    memory_kv kv;
    waiting_room room;
    identity_map map(kv, std::string(secret), room.forwarder());
    (void)kv.put(map.token_of("Patient/4"), "1EG4TE5MK73");  // an MBI where a token belongs
    CHECK_THROWS_AS((void)map.route("Patient/4"), std::runtime_error);
    CHECK_THROWS_AS(map.link("Patient/6", "1EG4TE5MK73"), std::invalid_argument);
    kv.fail_reads = true;
    CHECK_THROWS_AS((void)map.route("Patient/7"), nats_error);
  }
}
