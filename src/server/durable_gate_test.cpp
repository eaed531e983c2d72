#include "covgate/server/service.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <filesystem>
#include <future>
#include <stop_token>
#include <thread>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "covgate/model/claim_key.hpp"
#include "covgate/server/audit.hpp"
#include "support/failing_sync_vfs.hpp"
#include "support/gate_fixtures.hpp"
#include "support/samples.hpp"
#include "support/temp_dir.hpp"

using namespace covgate;
using test::sample;

namespace {

using covgate::test::temp_dir;

// The key of the one claim of CLM01 `clm01` (claims are keyed by CLM01 and billing NPI).
// The value of the Prometheus sample `name` (with its labels) in `text`; -1 when absent.
std::int64_t metric(const std::string& text, std::string_view name) {
  const auto at = text.find("\n" + std::string(name) + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + 1 + name.size() + 1));
}

std::string key_of(server::service& s, std::string_view clm01) {
  auto keys = s.claims().claim_keys_for(clm01);
  REQUIRE(keys.size() == 1);
  return keys.front();
}

std::string key_of(const store::sqlite_store& store, std::string_view clm01) {
  auto keys = store.claim_keys_of(clm01);
  REQUIRE(keys.size() == 1);
  return keys.front();
}

server::server_config config_in(const std::filesystem::path& dir) {
  server::server_config c;
  c.store.directory = dir / "data";
  c.outbox.destinations.push_back({"directory", dir / "out", "", "", 0});
  return c;
}

const std::string scenario = "scenarios/02-csii-release-after-late-lab/";

// Scenario 02 through the gate: its claim held, then released by the late labs; the release
// is the outbox's one item (per destination), returned as due.
std::vector<store::outbox_item> queue_late_release(server::service& s) {
  (void)s.gate().handle(sample(scenario + "1-record.json"), "http", "h");
  (void)s.gate().handle(sample(scenario + "2-claim.x12"), "mllp", "h");
  (void)s.gate().handle(sample(scenario + "3-late-labs.json"), "http", "h");
  return s.gate().due(10);
}

}  // namespace

TEST_SUITE("server.service") {
  TEST_CASE("an audit reads the live store beside a writer in a transaction, writing nothing") {
    temp_dir dir;
    server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    (void)s.gate().handle(sample(scenario + "1-record.json"), "http", "h");
    (void)s.gate().handle(sample(scenario + "2-claim.x12"), "mllp", "h");
    // Another connection holds the database's write lock (the gate's writer mid-commit, or
    // a shell): the audit's own connection must not need it. Its read-write open did (the
    // schema's statements and a facts update at every open), and failed busy.
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open((dir.path / "data" / "covgate.db").c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    const auto report = server::build_store_audit(s.config(), s.gate(), model::date{2026, 4, 1},
                                                  s.policy(), s.tables());
    REQUIRE(report.csii.size() == 1);
    CHECK(report.csii[0].patient == "2AA2AA2AA02");
    CHECK(report.csii[0].open_holds == 1);  // the facts and the claim, as committed
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
  }

  TEST_CASE("held before a restart, released after it by a late lab, delivered via the outbox") {
    temp_dir dir;
    {
      auto pruning_everything = config_in(dir.path);
      pruning_everything.store.journal_max_bytes = 0;
      server::service s(pruning_everything, test::shipped_ncd223(), test::shipped_tables());
      const auto record = s.gate().handle(sample(scenario + "1-record.json"), "http", "127.0.0.1");
      CHECK(record.durable);
      CHECK_FALSE(record.rejected);
      const auto claim = s.gate().handle(sample(scenario + "2-claim.x12"), "mllp", "127.0.0.1");
      CHECK(claim.claims == 1);
      CHECK(claim.body.find("TRN*2*CSII-LATE") != std::string::npos);
      CHECK(s.gate().due(10).empty());  // a first answer goes back to its sender, not the outbox
      CHECK(s.gate().prune().messages ==
            2);  // the journal is an audit record: nothing is recovered from it
    }
    // A new process: the claim is in the store, the record's facts in the facts table.
    server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    const auto held = s.claims().claim_json(key_of(s, "CSII-LATE"), server::durable_gate::now_ms());
    REQUIRE(held);
    CHECK(held->find("\"outcome\":\"hold:documentation\"") != std::string::npos);
    // A cluster front routes a reviewer's action by the patient it reads from this text, and
    // names the claim by the key it reads from it.
    const auto names = server::names_of_claim_json(*held);
    CHECK(names.patient == "2AA2AA2AA02");
    CHECK(names.key == key_of(s, "CSII-LATE"));
    CHECK(names.key == model::claim_key("CSII-LATE", "1999999984"));
    CHECK(server::names_of_claim_json(R"({"claim":{"id":"A"}})").key == "A");  // no billing NPI
    CHECK(server::names_of_claim_json(R"({"claim":{"id":"A","billing":{"npi":7}}})").key == "A");
    const auto wrong = server::names_of_claim_json(R"({"current":{"patient":7},"claim":[]})");
    CHECK(wrong.patient.empty());
    CHECK(wrong.key.empty());
    CHECK(server::names_of_claim_json("not json").key.empty());
    CHECK(server::names_of_claim_json("[1]").patient.empty());
    const auto labs = s.gate().handle(sample(scenario + "3-late-labs.json"), "http", "127.0.0.1");
    CHECK_FALSE(labs.rejected);
    const auto due = s.gate().due(10);
    REQUIRE(due.size() == 1);
    CHECK(due[0].key == "1999999984_CSII-LATE-2");  // billing NPI, then REF*1K
    CHECK(due[0].body.find("REF*1K*CSII-LATE-2") != std::string::npos);
    s.gate().delivered(due[0]);
    CHECK(s.gate().due(10).empty());
    const auto history =
        s.claims().claim_json(key_of(s, "CSII-LATE"), server::durable_gate::now_ms());
    CHECK(history->find("\"event\":\"hold\"") != std::string::npos);
    CHECK(history->find("\"event\":\"release\"") != std::string::npos);
    const auto metrics = s.metrics_text();
    CHECK(metrics.find("covgate_messages_total{channel=\"http\",kind=\"fhir\"} 1") !=
          std::string::npos);
    CHECK(metrics.find("covgate_outbox_items{state=\"delivered\"} 1") != std::string::npos);
    CHECK(metrics.find("covgate_claims{outcome=\"release\"} 1") != std::string::npos);
  }

  TEST_CASE(
      "a listener's message is queued, never waiting for the gate's lock, and processed in "
      "submission order") {
    server::server_config c;
    c.store.directory = ":memory:";
    server::service s(c, test::shipped_ncd223(), test::shipped_tables());
    std::promise<server::reply> record_answered;
    std::promise<server::reply> claim_answered;
    auto record = record_answered.get_future();
    auto claim = claim_answered.get_future();
    std::future<void> submitting;  // outlives the read: a submit that waited would finish after it
    s.gate().inspect([&](const store::sqlite_store&, const engine::intake&) {
      // An in-memory store's read holds the gate's lock: a listener submitting now must not
      // wait for it (its thread serves other connections).
      submitting = std::async(std::launch::async, [&] {
        s.gate().submit(sample(scenario + "1-record.json"), "http", "h",
                        [&](server::reply r) { record_answered.set_value(std::move(r)); });
        s.gate().submit(sample(scenario + "2-claim.x12"), "mllp", "h",
                        [&](server::reply r) { claim_answered.set_value(std::move(r)); });
      });
      CHECK(submitting.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
      CHECK(claim.wait_for(std::chrono::milliseconds(50)) == std::future_status::timeout);
    });
    submitting.get();
    const auto first = record.get();
    const auto second = claim.get();
    CHECK(first.durable);
    CHECK(first.facts > 0);
    CHECK(second.durable);
    CHECK(second.claims == 1);
    CHECK(first.journal_id < second.journal_id);             // in the order they were submitted
    CHECK(second.disposition == engine::disposition::hold);  // the scenario's labs come later
  }

  TEST_CASE("interchange control numbers continue across restarts") {
    temp_dir dir;
    std::string first;
    {
      server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
      first = s.gate().handle(sample("x12/01-insulin-pump-837p.x12"), "mllp", "h").body;
    }
    server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    auto next = sample("x12/01-insulin-pump-837p.x12");
    next.replace(next.find("*000000301*"), 11, "*000000302*");  // a new interchange
    next.replace(next.find("IEA*1*000000301"), 15, "IEA*1*000000302");
    const auto second = s.gate().handle(next, "mllp", "h").body;
    CHECK(first.substr(90, 9) != second.substr(90, 9));  // ISA13
  }

  TEST_CASE("limits come from the configuration: a set over x12.max_claims_per_set is refused") {
    temp_dir dir;
    auto c = config_in(dir.path);
    c.x12.max_claims_per_set = 1;
    server::service s(c, test::shipped_ncd223(), test::shipped_tables());
    auto two = sample(scenario + "2-claim.x12");
    const auto r = s.gate().handle(two, "mllp", "h");
    CHECK(r.claims == 1);  // one claim in the set: at the limit
    c.fhir.max_bytes = 1024;
    temp_dir other;
    c.store.directory = other.path / "data";
    server::service small(c, test::shipped_ncd223(), test::shipped_tables());
    const auto big = small.gate().handle(sample(scenario + "1-record.json"), "http", "h");
    CHECK(big.rejected);
    CHECK(big.body.find("too-costly") != std::string::npos);
  }

  TEST_CASE("outbox.every_answer queues first answers too") {
    temp_dir dir;
    auto c = config_in(dir.path);
    c.outbox.every_answer = true;
    server::service s(c, test::shipped_ncd223(), test::shipped_tables());
    const auto r = s.gate().handle(sample(scenario + "2-claim.x12"), "mllp", "h");
    const auto due = s.gate().due(10);
    REQUIRE(due.size() == 1);
    CHECK(due[0].key == "message:" + std::to_string(r.journal_id));
    CHECK(due[0].body == r.body);
  }

  TEST_CASE("the outbox backs off and dead-letters after the configured attempts") {
    temp_dir dir;
    auto c = config_in(dir.path);
    c.outbox.max_attempts = 2;
    c.outbox.first_backoff = std::chrono::milliseconds(1);
    server::service s(c, test::shipped_ncd223(), test::shipped_tables());
    auto due = queue_late_release(s);
    REQUIRE(due.size() == 1);
    s.gate().failed(due[0], "connection refused");
    CHECK(s.gate().next_due());
    due[0].attempts = 1;
    s.gate().failed(due[0], "connection refused");
    CHECK_FALSE(s.gate().next_due());
    CHECK(s.metrics_text().find("covgate_outbox_items{state=\"dead\"} 1") != std::string::npos);
  }

  TEST_CASE("regression: a completion that throws is logged; the other senders are answered") {
    // The committer calls each sender's completion; one that threw ended the process.
    temp_dir dir;
    server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    std::promise<server::reply> second;
    s.gate().submit(sample(scenario + "1-record.json"), "http", "h",
                    [](server::reply) { throw std::runtime_error("a host's callback failed"); });
    s.gate().submit(sample(scenario + "2-claim.x12"), "mllp", "h",
                    [&](server::reply r) { second.set_value(std::move(r)); });
    const auto answered = second.get_future().get();
    CHECK(answered.durable);
    CHECK(answered.claims == 1);
    CHECK(s.gate().healthy());
  }

  TEST_CASE("regression: an outbox mark the store cannot write fails the store, not the worker") {
    // The outbox worker's thread called delivered() and failed() unguarded: a full disk's
    // store_error left the thread and ended the process.
    test::failing_sync_vfs vfs;
    temp_dir dir;
    auto c = config_in(dir.path);
    c.outbox.destinations.push_back({"directory", dir.path / "out2", "", "", 0});
    c.outbox.delivered_max_age = std::chrono::hours(0);  // anything delivered before now
    c.store.journal_max_bytes = 1;                       // every message but the newest
    std::int64_t still_pending = 0;
    {
      server::service s(c, test::shipped_ncd223(), test::shipped_tables());
      const auto due = queue_late_release(s);
      REQUIRE(due.size() == 2);  // one release, two destinations
      s.gate().delivered(due[0]);
      still_pending = due[1].id;
      const auto journal_bytes = metric(s.metrics_text(), "covgate_journal_bytes");
      test::failing_sync_vfs::fail_wal_writes = true;
      SUBCASE("delivered") { CHECK_NOTHROW(s.gate().delivered(due[1])); }
      SUBCASE("failed") { CHECK_NOTHROW((void)s.gate().failed(due[1], "connection refused")); }
      CHECK_FALSE(s.gate().healthy());
      // A failed store delivers, marks and deletes nothing more: what it holds goes out after
      // the restart it needs (a group that failed may have left rows no sender was told of).
      test::failing_sync_vfs::fail_wal_writes = false;
      CHECK(s.gate().due(10).empty());
      CHECK_FALSE(s.gate().next_due());
      CHECK_NOTHROW(s.gate().delivered(due[1]));
      CHECK_FALSE(s.gate().failed(due[1], "connection refused"));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      const auto pruned = s.gate().prune();
      CHECK(pruned.messages == 0);
      CHECK(pruned.delivered_items == 0);
      CHECK(metric(s.metrics_text(), "covgate_journal_bytes") == journal_bytes);
    }
    server::service restarted(c, test::shipped_ncd223(), test::shipped_tables());
    const auto due = restarted.gate().due(10);
    REQUIRE(due.size() == 1);
    CHECK(due[0].id == still_pending);
    REQUIRE(restarted.gate().outbox_entry(due[0].id));
    CHECK(restarted.gate().outbox_entry(due[0].id)->attempts == 0);
  }

  TEST_CASE("retention deletes delivered outbox items older than their age; others stay") {
    temp_dir dir;
    auto c = config_in(dir.path);
    c.outbox.destinations.push_back({"directory", dir.path / "out2", "", "", 0});
    c.outbox.destinations.push_back({"directory", dir.path / "out3", "", "", 0});
    c.outbox.delivered_max_age = std::chrono::hours(0);  // anything delivered before now
    c.outbox.max_attempts = 1;
    server::service s(c, test::shipped_ncd223(), test::shipped_tables());
    const auto due = queue_late_release(s);
    REQUIRE(due.size() == 3);  // one release, three destinations
    s.gate().delivered(due[0]);
    CHECK(s.gate().failed(due[1], "connection refused"));  // dead at once
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto pruned = s.gate().prune();
    CHECK(pruned.delivered_items == 1);
    CHECK_FALSE(s.gate().outbox_entry(due[0].id));
    REQUIRE(s.gate().outbox_entry(due[1].id));
    CHECK(s.gate().outbox_entry(due[1].id)->state == "dead");  // an operator's to act on
    REQUIRE(s.gate().outbox_entry(due[2].id));
    CHECK(s.gate().outbox_entry(due[2].id)->state == "pending");
    const auto metrics = s.metrics_text();
    CHECK(metrics.find("covgate_outbox_items{state=\"delivered\"} 0") != std::string::npos);
    CHECK(metrics.find("covgate_outbox_items{state=\"dead\"} 1") != std::string::npos);
    CHECK(metrics.find("covgate_outbox_items{state=\"pending\"} 1") != std::string::npos);
    CHECK(s.gate().prune().delivered_items == 0);
  }

  TEST_CASE("a backlog of delivered items goes in batches, each committed, all of it") {
    temp_dir dir;
    const auto c = config_in(dir.path);
    const auto batches = 2 * server::durable_gate::delivered_pruned_per_batch + 1;
    const auto long_ago = server::durable_gate::now_ms() - 31LL * 24 * 3600 * 1000;
    {
      store::sqlite_store before(c.store.directory, false);  // a store from an older version
      before.begin();
      for (std::size_t i = 0; i < batches + 2; ++i) {
        const auto id = before.enqueue({0, "K-" + std::to_string(i), 0, "t", "x", 0}, long_ago);
        before.delivered(id, i < batches ? long_ago : server::durable_gate::now_ms());
      }
      before.commit();
    }
    server::service s(c, test::shipped_ncd223(), test::shipped_tables());
    std::stop_source stopping;
    stopping.request_stop();
    CHECK(s.gate().prune(stopping.get_token()).delivered_items == 0);  // asked to stop: none
    const auto groups = [&] { return metric(s.metrics_text(), "covgate_commit_groups_total"); };
    const auto groups_before = groups();
    CHECK(s.gate().prune().delivered_items == batches);
    CHECK(groups() - groups_before >= 3);  // a commit per batch: 250, 250 and 1
    CHECK(metric(s.metrics_text(), "covgate_outbox_items{state=\"delivered\"}") == 2);
  }

  TEST_CASE("retention stops between batches when asked, with what it deleted committed") {
    temp_dir dir;
    const auto c = config_in(dir.path);
    const std::size_t backlog = 40 * server::durable_gate::delivered_pruned_per_batch;
    const auto long_ago = server::durable_gate::now_ms() - 31LL * 24 * 3600 * 1000;
    {
      store::sqlite_store before(c.store.directory, false);
      before.begin();
      for (std::size_t i = 0; i < backlog; ++i) {
        before.delivered(before.enqueue({0, "K-" + std::to_string(i), 0, "t", "x", 0}, long_ago),
                         long_ago);
      }
      before.commit();
    }
    server::service s(c, test::shipped_ncd223(), test::shipped_tables());
    const auto delivered = [&] {
      return metric(s.metrics_text(), "covgate_outbox_items{state=\"delivered\"}");
    };
    std::stop_source stopping;
    auto pruning = std::async(std::launch::async,
                              [&] { return s.gate().prune(stopping.get_token()).delivered_items; });
    for (int waited = 0; delivered() == static_cast<std::int64_t>(backlog) && waited < 30'000;
         ++waited) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    stopping.request_stop();
    const auto deleted = pruning.get();
    CHECK(deleted > 0);
    CHECK(deleted < backlog);  // stopped, not finished
    CHECK(delivered() == static_cast<std::int64_t>(backlog - deleted));
  }

  TEST_CASE("delivered outbox items are kept for their retention age") {
    temp_dir dir;
    server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    const auto due = queue_late_release(s);
    REQUIRE(due.size() == 1);
    s.gate().delivered(due[0]);
    CHECK(s.gate().prune().delivered_items == 0);  // 30 days by default
    REQUIRE(s.gate().outbox_entry(due[0].id));
    CHECK(s.gate().outbox_entry(due[0].id)->state == "delivered");
  }

  TEST_CASE("a release for a cluster's CG_OUT is never dead-lettered, however long it fails") {
    temp_dir dir;
    auto c = config_in(dir.path);
    c.outbox.max_attempts = 2;
    c.outbox.first_backoff = std::chrono::milliseconds(1);
    c.outbox.max_backoff = std::chrono::milliseconds(1);
    server::destination_config cg_out;
    cg_out.kind = "cluster";  // what covgate serve gives a worker
    c.outbox.destinations = {cg_out};
    server::service s(c, test::shipped_ncd223(), test::shipped_tables());
    auto due = queue_late_release(s);
    REQUIRE(due.size() == 1);
    for (std::uint32_t attempt = 0; attempt < 5; ++attempt) {
      due[0].attempts = attempt;
      CHECK_FALSE(s.gate().failed(due[0], "no responders"));  // would be dead from the 2nd
    }
    CHECK(s.gate().next_due());
    CHECK(s.metrics_text().find("covgate_outbox_items{state=\"dead\"} 0") != std::string::npos);
  }

  TEST_CASE("the worklist pages held claims and a reviewer can act on review holds only") {
    temp_dir dir;
    server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    (void)s.gate().handle(sample(scenario + "2-claim.x12"), "mllp", "h");
    store::claim_query q;
    q.result = model::outcome::hold_documentation;
    q.limit = 10;
    const auto list = s.claims().list_json(q, server::durable_gate::now_ms());
    CHECK(list.find("\"id\":\"CSII-LATE\"") != std::string::npos);
    CHECK(list.find("\"next\":null") != std::string::npos);
    CHECK(s.gate().review(key_of(s, "CSII-LATE"), true, "alice", "x") ==
          server::review_status::not_reviewable);
    CHECK(s.gate().review("NOPE", true, "alice", "x") == server::review_status::unknown_claim);
  }
}

namespace {

server::reply from_stream(server::durable_gate& gate, std::string_view payload,
                          server::stream_position at) {
  std::promise<server::reply> promise;
  auto answer = promise.get_future();
  gate.submit_from_stream(payload, at, [&](server::reply r) { promise.set_value(std::move(r)); });
  return answer.get();
}

}  // namespace

TEST_SUITE("server.service") {
  TEST_CASE("a stream message is applied once per sequence, and never under an older epoch") {
    temp_dir dir;
    const auto claim = sample(scenario + "2-claim.x12");
    const auto record = sample(scenario + "1-record.json");
    {
      server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
      const auto first = from_stream(s.gate(), claim, {3, 10, 5});
      CHECK(first.verdict == store::apply_verdict::apply);
      CHECK(first.durable);
      CHECK(first.claims == 1);
      CHECK(first.body.find("TRN*2*CSII-LATE") != std::string::npos);
      // Redelivered after a crash between commit and acknowledgement: nothing is done again.
      const auto again = from_stream(s.gate(), claim, {3, 10, 5});
      CHECK(again.verdict == store::apply_verdict::already_applied);
      CHECK(again.durable);
      CHECK(again.body.empty());
      CHECK(again.journal_id == 0);
      // Another partition's sequences are its own.
      CHECK(from_stream(s.gate(), record, {4, 1, 5}).verdict == store::apply_verdict::apply);
    }
    // After a restart the positions are still there; a worker fenced off by a newer lease
    // (epoch 7 recorded) cannot apply under epoch 5, not even a new sequence.
    server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    CHECK(from_stream(s.gate(), record, {3, 11, 7}).verdict == store::apply_verdict::apply);
    const auto stale = from_stream(s.gate(), record, {3, 12, 5});
    CHECK(stale.verdict == store::apply_verdict::stale_epoch);
    CHECK(stale.facts == 0);
    CHECK(from_stream(s.gate(), claim, {3, 9, 7}).verdict == store::apply_verdict::already_applied);
    std::size_t nats_messages = 0;
    s.gate().read([&](const store::sqlite_store& store) {
      CHECK(store.applied(3) == store::applied_position{11, 7});
      for (const auto* kind : {"x12", "fhir"}) {
        store.for_each_journal(kind, [&](const store::journal_entry& e) {
          if (e.channel == "nats") {
            ++nats_messages;
            CHECK(e.sender.starts_with("part-"));
          }
        });
      }
    });
    CHECK(nats_messages == 3);  // the first claim, partition 4's record, sequence 11
  }

  TEST_CASE("a stream message's claim names its message by journal id, or by stream sequence") {
    temp_dir dir;
    server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    (void)s.gate().handle(sample(scenario + "1-record.json"), "http", "h");
    const auto first = from_stream(s.gate(), sample(scenario + "2-claim.x12"), {3, 4711, 5});
    REQUIRE(first.claims == 1);
    CHECK(first.journal_id == 2);
    const auto labs = from_stream(s.gate(), sample(scenario + "3-late-labs.json"), {3, 4712, 5});
    CHECK(labs.journal_id == 3);
    const auto now = server::durable_gate::now_ms();
    // This server's GET /messages/{id} names it by its journal.
    const auto local = s.claims().claim_json(key_of(s, "CSII-LATE"), now);
    REQUIRE(local);
    CHECK(local->find(R"("source":"nats.3.4711:2:)") != std::string::npos);
    CHECK(local->find(R"("message":{"id":2,"available":true})") != std::string::npos);
    CHECK(local->find(R"("message":3,)") != std::string::npos);  // the release, by the labs
    // A front's names it by CG_IN's sequence, which every store of the cluster agrees on.
    const auto through_front = s.claims().claim_json(key_of(s, "CSII-LATE"), now, {true, 1024});
    REQUIRE(through_front);
    CHECK(through_front->find(R"("message":{"id":4711,"available":true})") != std::string::npos);
    CHECK(through_front->find(R"("message":4712,)") != std::string::npos);
    CHECK(through_front->find(R"("message":3,)") == std::string::npos);
    // Reference data's stream is not CG_IN: its messages are named by neither.
    const auto other_stream = s.claims().claim_json(key_of(s, "CSII-LATE"), now, {true, 3});
    CHECK(other_stream->find(R"("message":{"id":null,"available":false})") != std::string::npos);
    // A message that came in by a socket, not the stream, has no stream sequence.
    (void)s.gate().handle(sample("scenarios/01-csii-released/2-claim.x12"), "mllp", "h");
    const auto direct = s.claims().claim_json(key_of(s, "CSII-OK"), now, {true, 1024});
    REQUIRE(direct);
    CHECK(direct->find(R"("message":{"id":null,"available":false})") != std::string::npos);
  }

  TEST_CASE(
      "a partition's position moves forward with no message, never back or under an old epoch") {
    temp_dir dir;
    server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    const auto record = sample(scenario + "1-record.json");
    CHECK(from_stream(s.gate(), record, {3, 10, 5}).verdict == store::apply_verdict::apply);
    CHECK(s.gate().advance_position(3, 40, 5));        // seen through 40: nothing of it in between
    CHECK_FALSE(s.gate().advance_position(3, 30, 5));  // never back
    CHECK_FALSE(s.gate().advance_position(3, 50, 4));  // an older lease's
    CHECK(s.gate().advance_position(4, 7, 1));         // a partition never applied
    s.gate().read([&](const store::sqlite_store& store) {
      CHECK(store.applied(3) == store::applied_position{40, 5});
      CHECK(store.applied(4) == store::applied_position{7, 1});
    });
    // A message at or below the position is a redelivery: nothing is done again.
    const auto claim = sample(scenario + "2-claim.x12");
    const auto below = from_stream(s.gate(), claim, {3, 35, 5});
    CHECK(below.verdict == store::apply_verdict::already_applied);
    CHECK(below.claims == 0);
    CHECK(from_stream(s.gate(), claim, {3, 41, 5}).claims == 1);
  }

  TEST_CASE("a stale copy of a partition replaced by a snapshot: the engine forgets the copy") {
    // The holder applied partition 3 through the late labs (sequences 10 to 12, the first
    // nine were other partitions'): its claim is released.
    temp_dir holder_dir;
    server::service holder(config_in(holder_dir.path), test::shipped_ncd223(),
                           test::shipped_tables());
    REQUIRE(from_stream(holder.gate(), sample(scenario + "1-record.json"), {3, 10, 5}).durable);
    REQUIRE(from_stream(holder.gate(), sample(scenario + "2-claim.x12"), {3, 11, 5}).claims == 1);
    REQUIRE(from_stream(holder.gate(), sample(scenario + "3-late-labs.json"), {3, 12, 5}).durable);
    const auto every_patient = [](std::string_view) { return true; };
    std::string bytes;
    holder.gate().read([&](const store::sqlite_store& store) {
      REQUIRE(store.write_snapshot(3, every_patient, bytes).position);
    });

    // The stale copy: the claim still held, and a record of another patient filed under
    // partition 3 that the holder does not have (a copy's rows are not always a prefix of the
    // holder's: the test makes the difference visible).
    temp_dir dir;
    server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    const auto other_record = sample("scenarios/01-csii-released/1-record.json");
    REQUIRE(from_stream(s.gate(), sample(scenario + "1-record.json"), {3, 1, 4}).durable);
    REQUIRE(from_stream(s.gate(), sample(scenario + "2-claim.x12"), {3, 2, 4}).claims == 1);
    REQUIRE(from_stream(s.gate(), other_record, {3, 3, 4}).durable);
    // Another partition's claim, which stays.
    REQUIRE(
        from_stream(s.gate(), sample("scenarios/01-csii-released/2-claim.x12"), {4, 9, 1}).claims ==
        1);
    const auto held_and_released = [&] {
      server::metrics::gauges g;
      s.gate().sample(g);
      return std::pair{
          g.gate.by_outcome[static_cast<std::size_t>(model::outcome::release)],
          g.gate.by_outcome[static_cast<std::size_t>(model::outcome::hold_documentation)]};
    };
    CHECK(held_and_released() == std::pair<std::uint64_t, std::uint64_t>{1, 1});

    const auto replaced = s.gate().replace_partition(bytes, every_patient);
    REQUIRE(replaced.durable);
    CHECK(replaced.load.verdict == store::snapshot_load_verdict::loaded);
    CHECK(replaced.load.claims == 1);
    // The copy's held claim went, the holder's released one came: counted once each.
    CHECK(held_and_released() == std::pair<std::uint64_t, std::uint64_t>{2, 0});
    s.gate().read([&](const store::sqlite_store& store) {
      CHECK(store.applied(3) == store::applied_position{12, 5});
      CHECK(store.load(key_of(store, "CSII-LATE"))->decision.result == model::outcome::release);
      CHECK(store.load(key_of(store, "CSII-OK")));
    });
    // The engine forgot the copy's facts: partition 3's next message is decided without
    // the record only the copy had. With it, this claim would be released (scenario 01).
    const auto pump_claim = sample("scenarios/01-csii-released/2-claim.x12");
    std::string renamed(pump_claim);
    for (auto at = renamed.find("CSII-OK"); at != std::string::npos;
         at = renamed.find("CSII-OK", at)) {
      renamed.replace(at, 7, "CSII-NXT");
    }
    const auto isa13 = renamed.find("*000000501*");  // another interchange, not a repeat
    REQUIRE(isa13 != std::string::npos);
    renamed.replace(isa13, 11, "*000000777*");
    const auto next = from_stream(s.gate(), renamed, {3, 13, 5});
    REQUIRE(next.claims == 1);
    s.gate().read([&](const store::sqlite_store& store) {
      CHECK(store.load(key_of(store, "CSII-NXT"))->decision.result != model::outcome::release);
    });
    // Kept apart from a store that never forgot: the same claim with the record indexed is
    // released (so the check above is the forgetting's, not the claim's).
    temp_dir control_dir;
    server::service control(config_in(control_dir.path), test::shipped_ncd223(),
                            test::shipped_tables());
    REQUIRE(from_stream(control.gate(), other_record, {3, 1, 1}).durable);
    REQUIRE(from_stream(control.gate(), renamed, {3, 2, 1}).claims == 1);
    control.gate().read([&](const store::sqlite_store& store) {
      CHECK(store.load(key_of(store, "CSII-NXT"))->decision.result == model::outcome::release);
    });

    // The same snapshot again: the store stands at it, nothing changes.
    const auto again = s.gate().replace_partition(bytes, every_patient);
    CHECK(again.load.verdict == store::snapshot_load_verdict::not_newer);
  }

  TEST_CASE("a replaced copy takes only its own partition's facts: another partition's stay") {
    const auto every_patient = [](std::string_view) { return true; };
    temp_dir holder_dir;
    server::service holder(config_in(holder_dir.path), test::shipped_ncd223(),
                           test::shipped_tables());
    REQUIRE(from_stream(holder.gate(), sample(scenario + "1-record.json"), {3, 10, 5}).durable);
    std::string bytes;
    holder.gate().read([&](const store::sqlite_store& store) {
      REQUIRE(store.write_snapshot(3, every_patient, bytes).position);
    });
    // The copy holds partition 3 (stale) and partition 4, whose record must stay indexed.
    temp_dir dir;
    server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    REQUIRE(from_stream(s.gate(), sample(scenario + "1-record.json"), {3, 1, 4}).durable);
    const std::string other = "scenarios/01-csii-released/";
    REQUIRE(from_stream(s.gate(), sample(other + "1-record.json"), {4, 2, 1}).durable);
    REQUIRE(s.gate().replace_partition(bytes, every_patient).load.verdict ==
            store::snapshot_load_verdict::loaded);
    // Partition 4's patient's pump claim is decided with that record: released.
    REQUIRE(from_stream(s.gate(), sample(other + "2-claim.x12"), {4, 3, 1}).claims == 1);
    s.gate().read([&](const store::sqlite_store& store) {
      REQUIRE(store.load(key_of(store, "CSII-OK")));
      CHECK(store.load(key_of(store, "CSII-OK"))->decision.result == model::outcome::release);
    });
  }

  TEST_CASE("a Practitioner another partition's message brought last goes in every snapshot") {
    // Partition 7 holds a Practitioner, scenario 02's record whose follow-up visit names that
    // Practitioner by reference only, and its claim, held for the C-peptide. A message of
    // partition 2 brings the same Practitioner again, as a front's split message does with a
    // line of no patient (every patient's part carries it). The facts row is one per resource:
    // before rows of no patient were filed as every partition's, it went to partition 2, the
    // snapshot of 7 went without it, and a worker that took 7 over from that snapshot held
    // the claim after the late labs for a visit by an unknown provider (the cluster test's
    // CG44, under load).
    const std::string practitioner =
        R"({"resourceType":"Practitioner","id":"dr-gen","qualification":[{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0360","code":"MD"}]}}]})";
    rapidjson::Document record;
    // Length-bounded: RAPIDJSON_SSE2's scans of a NUL-terminated string load past its end.
    const auto record_text = sample(scenario + "1-record.json");
    record.Parse(record_text.data(), record_text.size());
    REQUIRE_FALSE(record.HasParseError());
    auto& entries = record["entry"];
    for (auto e = entries.Begin(); e != entries.End();) {
      auto& resource = (*e)["resource"];
      const std::string type = resource["resourceType"].GetString();
      if (type == "Practitioner") {
        e = entries.Erase(e);
        continue;
      }
      if (type == "Encounter") {
        resource["participant"][0]["individual"]["reference"].SetString("Practitioner/dr-gen");
      }
      ++e;
    }
    rapidjson::StringBuffer by_reference;
    rapidjson::Writer<rapidjson::StringBuffer> writer(by_reference);
    record.Accept(writer);

    temp_dir holder_dir;
    server::service holder(config_in(holder_dir.path), test::shipped_ncd223(),
                           test::shipped_tables());
    REQUIRE(from_stream(holder.gate(), practitioner, {7, 1, 1}).durable);
    REQUIRE(from_stream(holder.gate(), by_reference.GetString(), {7, 2, 1}).durable);
    REQUIRE(from_stream(holder.gate(), sample(scenario + "2-claim.x12"), {7, 3, 1}).claims == 1);
    REQUIRE(from_stream(holder.gate(), practitioner, {2, 4, 1}).durable);
    const auto every_patient = [](std::string_view) { return true; };
    std::string bytes;
    holder.gate().read([&](const store::sqlite_store& store) {
      const auto row = store.filed_facts_of("Practitioner/dr-gen");
      REQUIRE(row);
      CHECK(row->partition == store::sqlite_store::shared_part);
      REQUIRE(store.write_snapshot(7, every_patient, bytes).position);
    });

    temp_dir dir;
    server::service taker(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    REQUIRE(taker.gate().load_snapshot(bytes).load.verdict == store::snapshot_load_verdict::loaded);
    REQUIRE(from_stream(taker.gate(), sample(scenario + "3-late-labs.json"), {7, 5, 1}).durable);
    taker.gate().read([&](const store::sqlite_store& store) {
      const auto claim = store.load(key_of(store, "CSII-LATE"));
      REQUIRE(claim);
      INFO("its first reason: " << (claim->decision.findings.empty()
                                        ? std::string("none")
                                        : std::string(claim->decision.findings.front().code())));
      CHECK(claim->decision.result == model::outcome::release);
    });
  }

  TEST_CASE("a stream message's decision lines come back only when its sender asked for them") {
    temp_dir dir;
    server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    const auto record = sample(scenario + "1-record.json");
    const auto claim = sample(scenario + "2-claim.x12");
    const auto labs = sample(scenario + "3-late-labs.json");
    CHECK(from_stream(s.gate(), record, {3, 1, 1, 0, true}).decisions.empty());  // no event
    // Not asked (serve's front): none, though the claim has an event.
    const auto held = from_stream(s.gate(), claim, {3, 2, 1});
    CHECK(held.claims == 1);
    CHECK(held.decisions.empty());
    // A C ABI host's front asks: the labs' answer carries the release they caused (a later
    // event of the held claim), one line, as the C ABI's own handle writes it.
    const auto released = from_stream(s.gate(), labs, {3, 3, 1, 0, true});
    CHECK(released.verdict == store::apply_verdict::apply);
    CHECK(released.decisions.starts_with(R"({"event":"release","claim_id":"CSII-LATE")"));
    CHECK(std::count(released.decisions.begin(), released.decisions.end(), '\n') == 1);
    // A redelivery does nothing again, so it has no lines either.
    CHECK(from_stream(s.gate(), labs, {3, 3, 1, 0, true}).decisions.empty());
  }

  TEST_CASE("a reviewer's action from the stream: at the reviewer's time, once, never fenced") {
    temp_dir dir;
    const std::string review_hold = "scenarios/38-implantable-review/";
    server::service s(config_in(dir.path), test::shipped_ncd223(), test::shipped_tables());
    // A stream message is dated when the stream stored it, not when it is applied.
    constexpr std::int64_t stored_at = 1'779'999'000'000;
    REQUIRE(
        from_stream(s.gate(), sample(review_hold + "2-claim.x12"), {2, 1, 4, stored_at}).claims ==
        1);
    // By the claim's key, as a front names it; an action an older front queued names the
    // CLM01 alone, which names the claim while one billing provider sent it.
    std::string named = key_of(s, "IMP-SPAS");
    const auto review = [&](server::stream_position at, std::int64_t at_ms) {
      std::promise<server::stream_review_result> promise;
      auto answer = promise.get_future();
      s.gate().review_from_stream(named, false, "alice", "duplicate order", at_ms, at,
                                  [&](server::stream_review_result r) { promise.set_value(r); });
      return answer.get();
    };
    constexpr std::int64_t reviewed_at = 1'780'000'000'000;  // a rebuild applies the same time
    const auto first = review({2, 2, 4}, reviewed_at);
    CHECK(first.verdict == store::apply_verdict::apply);
    CHECK(first.status == server::review_status::done);
    // The cancel is a later answer: queued for the destination with the claim's next key.
    const auto due = s.gate().due(10);
    REQUIRE(due.size() == 1);
    CHECK(due[0].key == "1999999984_IMP-SPAS-2");
    // A redelivery changes nothing; nor does an older lease, though the sequence is new.
    const auto again = review({2, 2, 4}, reviewed_at + 5);
    CHECK(again.verdict == store::apply_verdict::already_applied);
    CHECK(again.status == server::review_status::unavailable);
    CHECK(review({2, 3, 3}, reviewed_at).verdict == store::apply_verdict::stale_epoch);
    // A second cancel at a new position is applied, and answered as the claim now stands.
    named = "IMP-SPAS";
    const auto second = review({2, 4, 4}, reviewed_at + 9);
    CHECK(second.verdict == store::apply_verdict::apply);
    CHECK(second.status == server::review_status::already_closed);
    s.gate().read([&](const store::sqlite_store& store) {
      CHECK(store.applied(2) == store::applied_position{4, 4});
      const auto row = store.claim_row_of(key_of(store, "IMP-SPAS"));
      REQUIRE(row);
      CHECK(row->closed);
      CHECK(row->events == 2);
      CHECK(row->updated_ms == reviewed_at);
      store.for_each_journal(
          "x12", [&](const store::journal_entry& e) { CHECK(e.received_ms == stored_at); });
    });
    CHECK(s.gate().due(10).size() == 1);
  }
}
