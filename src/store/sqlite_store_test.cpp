#include "covgate/store/sqlite_store.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "covgate/model/claim_key.hpp"
#include "support/gate_fixtures.hpp"
#include "support/open_files.hpp"
#include "support/temp_dir.hpp"

using namespace covgate;

namespace {

using covgate::test::descriptors_of;
using covgate::test::temp_dir;

store::journal_entry entry(std::int64_t at_ms, std::string channel, std::string sender,
                           std::string kind, std::string body) {
  store::journal_entry e;
  e.received_ms = at_ms;
  e.channel = std::move(channel);
  e.sender = std::move(sender);
  e.kind = std::move(kind);
  e.body = std::move(body);
  return e;
}

// SQLite's plan for `query` over a new store's schema: one step per row of EXPLAIN QUERY PLAN.
std::vector<std::string> plan_of(std::string_view query) {
  temp_dir dir;
  { store::sqlite_store s(dir.path, false); }  // the schema, with every index and trigger
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((dir.path / "covgate.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
          SQLITE_OK);
  sqlite3_stmt* plan = nullptr;
  const std::string explain = "EXPLAIN QUERY PLAN " + std::string(query);
  REQUIRE(sqlite3_prepare_v2(db, explain.c_str(), -1, &plan, nullptr) == SQLITE_OK);
  std::vector<std::string> steps;
  while (sqlite3_step(plan) == SQLITE_ROW) {
    steps.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(plan, 3)));
  }
  sqlite3_finalize(plan);
  sqlite3_close(db);
  return steps;
}

}  // namespace

TEST_SUITE("store.sqlite_store") {
  TEST_CASE("claims, journal, history, outbox and counters survive closing and reopening") {
    temp_dir dir;
    {
      store::sqlite_store s(dir.path, false);
      s.begin();
      s.save(test::stored_claim("A", model::outcome::hold_documentation));
      s.save(test::stored_claim("B"));
      CHECK(s.journal(entry(1000, "mllp", "127.0.0.1", "x12", "ISA*...")) == 1);
      model::decision held;
      held.claim_id = "A";
      held.result = model::outcome::hold_documentation;
      s.record_history("A", {1, "hold", 1000, held, "mllp:1:0", ""});
      s.enqueue({0, "A:2", 0, "application/edi-x12", "ISA*277", 0}, 1000);
      s.set_counter("control", 42);
      s.commit();
    }
    store::sqlite_store s(dir.path, false);
    REQUIRE(s.load("A"));
    CHECK(s.load("A")->claim == test::pump_claim("A"));
    CHECK(s.load("A")->decision.result == model::outcome::hold_documentation);
    CHECK(s.size() == 2);
    const auto list = s.claims_of(test::test_patient_key);
    REQUIRE(list.size() == 2);
    CHECK(list[0].id == "A");
    CHECK(list[1].id == "B");
    std::vector<std::string> bodies;
    s.for_each_journal("x12", [&](const store::journal_entry& e) { bodies.push_back(e.body); });
    CHECK(bodies == std::vector<std::string>{"ISA*..."});
    REQUIRE(s.history("A").size() == 1);
    CHECK(s.history("A")[0].kind == "hold");
    CHECK(s.history("A")[0].decision.result == model::outcome::hold_documentation);
    CHECK(s.history("A")[0].source == "mllp:1:0");
    CHECK(s.history("A")[0].at_ms == 1000);
    CHECK(s.counter("control", 1) == 42);
    CHECK(s.counter("unknown", 7) == 7);
    CHECK(s.due(1000, 10).size() == 1);
  }

  TEST_CASE("two billing providers' claims of one CLM01 are two rows, found by the CLM01") {
    store::sqlite_store s(":memory:", false);
    auto first = test::stored_claim("P1", model::outcome::hold_documentation);
    first.claim.billing.npi = "1111111112";
    auto second = test::stored_claim("P1");
    second.claim.billing.npi = "2222222223";
    s.save(first);
    s.save(second);
    s.save(test::stored_claim("P10"));  // another CLM01 that begins with "P1"
    CHECK(s.size() == 3);
    const auto first_key = model::claim_key(first.claim);
    const auto second_key = model::claim_key(second.claim);
    CHECK(s.claim_keys_of("P1") == std::vector<std::string>{first_key, second_key});
    CHECK(s.claim_keys_of("P10") == std::vector<std::string>{"P10"});
    CHECK(s.claim_keys_of("P").empty());
    // A reference: a CLM01 names every key of it, a key itself only when the store has it.
    CHECK(s.claim_keys_for("P1") == std::vector<std::string>{first_key, second_key});
    CHECK(s.claim_keys_for(second_key) == std::vector<std::string>{second_key});
    CHECK(s.claim_keys_for(model::claim_key("P1", "3333333334")).empty());
    CHECK(s.load(first_key)->decision.result == model::outcome::hold_documentation);
    CHECK(s.load(second_key)->decision.result == model::outcome::release);
    CHECK_FALSE(s.load("P1"));
    CHECK(s.claim_row_of(second_key)->billing == "2222222223");
  }

  TEST_CASE("a store keyed by CLM01 alone is re-keyed by CLM01 and billing NPI when opened") {
    // With its list rows, and from before the list table (the rows are then written after
    // the claims are re-keyed, under the new keys).
    bool list_rows = true;
    SUBCASE("with its list rows") {}
    SUBCASE("from before the list table") { list_rows = false; }
    temp_dir dir;
    auto held = test::stored_claim("OLD", model::outcome::hold_documentation);
    held.claim.billing.npi = "1999999984";
    const auto key = model::claim_key(held.claim);
    {
      store::sqlite_store s(dir.path, false);
      s.begin();
      s.save(held);
      s.save(test::stored_claim("NONPI"));
      s.record_history(key, {1, "hold", 1000, held.decision, "mllp:1:0", ""});
      s.commit();
    }
    {
      // As a version before claim keys wrote it: the claim, its history and its list row
      // under CLM01 alone, and no mark that the keys were changed.
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open((dir.path / "covgate.db").c_str(), &db) == SQLITE_OK);
      for (const char* sql : {"UPDATE claims SET id = 'OLD' WHERE id <> 'NONPI'",
                              "UPDATE history SET claim_id = 'OLD'",
                              "UPDATE claim_list SET id = 'OLD' WHERE id <> 'NONPI'",
                              "DELETE FROM meta WHERE name = 'claim_keys'"}) {
        CHECK(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
      }
      if (!list_rows) {
        CHECK(sqlite3_exec(db, "DELETE FROM claim_list", nullptr, nullptr, nullptr) == SQLITE_OK);
      }
      sqlite3_close(db);
    }
    store::sqlite_store s(dir.path, false);
    CHECK_FALSE(s.load("OLD"));
    REQUIRE(s.load(key));
    CHECK(s.load(key)->claim == held.claim);
    CHECK(s.history(key).size() == 1);
    REQUIRE(s.claim_row_of(key));
    CHECK(s.claim_row_of(key)->since_ms == 1000);
    CHECK(s.claim_keys_of("OLD") == std::vector<std::string>{key});
    CHECK(s.load("NONPI"));  // no billing NPI: keyed by CLM01 as before
    CHECK(s.counter("claim_keys", 0) == 1);
  }

  TEST_CASE("a store that cannot be opened says which file, and keeps nothing of it open") {
    // A plugin host may retry a failing open for as long as it runs: each failed attempt
    // must give back its connections, the database file's descriptors with them.
    temp_dir dir;
    const auto file = dir.path / "covgate.db";
    SUBCASE("not a database (fails at the first statement)") {
      std::filesystem::create_directories(dir.path);
      std::FILE* f = std::fopen(file.c_str(), "wb");
      REQUIRE(f != nullptr);
      for (int i = 0; i < 64; ++i) std::fputs("this file is not a database at all\n", f);
      std::fclose(f);
    }
    SUBCASE("a journal changed by hand (fails with both connections open, statements prepared)") {
      { store::sqlite_store s(dir.path, false); }
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
      REQUIRE(sqlite3_exec(db, "ALTER TABLE journal DROP COLUMN bytes", nullptr, nullptr,
                           nullptr) == SQLITE_OK);
      sqlite3_close(db);
    }
    const auto error_opening = [&](bool for_writing) {
      try {
        if (for_writing) {
          store::sqlite_store s(dir.path, true);
        } else {
          store::sqlite_store s(dir.path, store::read_only);
        }
      } catch (const store::store_error& e) {
        return std::string(e.what());
      }
      return std::string();
    };
    for (int attempt = 0; attempt < 3; ++attempt) {
      for (const bool for_writing : {true, false}) {
        const auto error = error_opening(for_writing);
        INFO(error);
        CHECK(error.starts_with("cannot open " + file.string() + ": "));
        CHECK(descriptors_of(std::filesystem::canonical(file)) == 0);
      }
    }
  }

  TEST_CASE("a rolled-back transaction leaves nothing behind") {
    temp_dir dir;
    store::sqlite_store s(dir.path, false);
    s.begin();
    s.save(test::stored_claim("A"));
    s.journal(entry(1, "http", "::1", "fhir", "{}"));
    s.rollback();
    CHECK_FALSE(s.load("A"));
    CHECK(s.journal_bytes() == 0);
  }

  TEST_CASE("a deferred sync: commits go to the WAL, sync() puts them on disk or says why not") {
    store::sqlite_store memory(":memory:", true);
    memory.defer_sync();  // nothing to sync in memory
    CHECK_FALSE(memory.sync_deferred());
    CHECK_NOTHROW(memory.sync());

    temp_dir dir;
    {
      store::sqlite_store s(dir.path, true);
      s.defer_sync();
      CHECK(s.sync_deferred());
      s.begin();
      s.save(test::stored_claim("A"));
      s.commit();
      // Written to the WAL (not only held by the connection), where a reader finds it.
      CHECK(std::filesystem::file_size(dir.path / "covgate.db-wal") > 0);
      const store::sqlite_store reader(dir.path, store::read_only);
      CHECK(reader.load("A"));
      CHECK_NOTHROW(s.sync());
      CHECK_NOTHROW(s.sync());  // the directory once, the WAL every time
    }
    {
      store::sqlite_store s(dir.path, true);
      s.defer_sync();
      CHECK(s.load("A"));
      // Its files gone from under it: nothing can be made durable, and the error says which.
      std::filesystem::remove_all(dir.path);
      try {
        s.sync();
        FAIL("sync() of a removed store did not throw");
      } catch (const store::store_error& e) {
        CHECK(std::string(e.what()).find("covgate.db-wal") != std::string::npos);
      }
    }
  }

  TEST_CASE("open claims and released insulin pumps are found by index, not by a walk") {
    temp_dir dir;
    store::sqlite_store s(dir.path, false);
    auto a = test::stored_claim("A", model::outcome::hold_documentation);
    auto b = test::stored_claim("B");
    b.csii_released = true;
    auto c = test::stored_claim("C", model::outcome::hold_review);
    auto d = test::stored_claim("D", model::outcome::hold_documentation);
    d.closed = true;
    for (const auto& r : {a, b, c, d}) s.save(r);
    const auto held = s.open_claims_of(test::test_patient_key, false);
    REQUIRE(held.size() == 1);
    CHECK(held[0].id == "A");
    CHECK(s.open_claims_of(test::test_patient_key, true).size() == 2);
    CHECK(s.csii_released_other_than(test::test_patient_key, "A"));
    CHECK_FALSE(s.csii_released_other_than(test::test_patient_key, "B"));
  }

  TEST_CASE("the oldest open hold is the earliest time an open claim's current hold began") {
    temp_dir dir;
    store::sqlite_store s(dir.path, false);
    CHECK_FALSE(s.oldest_hold_ms());
    // Each claim saved with its outcome now, and its events so far.
    const auto claim = [&](const char* id, model::outcome now, bool closed,
                           std::vector<std::pair<const char*, std::int64_t>> events) {
      auto r = test::stored_claim(id, now);
      r.closed = closed;
      s.save(r);
      std::uint32_t sequence = 0;
      for (const auto& [kind, at_ms] : events) {
        engine::history_entry e;
        e.sequence = ++sequence;
        e.kind = kind;
        e.at_ms = at_ms;
        e.decision = r.decision;
        e.source = "mllp:1";
        s.record_history(model::claim_key(r.claim), e);
      }
    };
    claim("A", model::outcome::hold_documentation, false, {{"hold", 1'000}});
    claim("B", model::outcome::hold_review, false, {{"hold", 2'000}});
    claim("C", model::outcome::release, false, {{"hold", 500}, {"release", 600}});
    claim("D", model::outcome::hold_documentation, true, {{"hold", 100}, {"cancel", 200}});
    claim("E", model::outcome::hold_not_covered, false,
          {{"hold", 300}, {"release", 400}, {"reopened", 3'000}});
    CHECK(s.oldest_hold_ms() == std::optional<std::int64_t>(1'000));
    claim("A", model::outcome::release, false, {{"hold", 1'000}, {"release", 5'000}});
    CHECK(s.oldest_hold_ms() == std::optional<std::int64_t>(2'000));
    claim("B", model::outcome::release, false, {{"hold", 2'000}, {"release", 5'000}});
    claim("E", model::outcome::release, false,
          {{"hold", 300}, {"release", 400}, {"reopened", 3'000}, {"release", 5'000}});
    CHECK_FALSE(s.oldest_hold_ms());
  }

  TEST_CASE("regression: the oldest hold is read by index seeks, not per open hold's history") {
    // GET /metrics reads it under the gate's lock. It was a subquery per open held claim, which
    // SQLite ran over history's index by kind: every hold row of the store for every open hold,
    // quadratic (GET /metrics took 19.6 s with 10,000 held claims, MLLP stalled behind it).
    const auto steps = plan_of(store::sqlite_store::oldest_hold_query);
    std::string plan_text;
    for (const auto& step : steps) plan_text += step + "; ";
    CAPTURE(plan_text);
    REQUIRE_FALSE(steps.empty());
    for (const auto& step : steps) {
      CHECK(step.find("CORRELATED") == std::string::npos);  // no query per row
      CHECK(step.rfind("SCAN", 0) == std::string::npos);    // no table or index walked
      if (step.rfind("SEARCH", 0) == 0) CHECK(step.find("INDEX") != std::string::npos);
    }
  }

  TEST_CASE("the worklist pages open claims by outcome, in id order") {
    temp_dir dir;
    store::sqlite_store s(dir.path, false);
    for (const char* id : {"C", "A", "B", "D"})
      s.save(test::stored_claim(id, model::outcome::hold_review));
    auto closed = test::stored_claim("E", model::outcome::hold_review);
    closed.closed = true;
    s.save(closed);
    const auto first = s.claims_with(model::outcome::hold_review, "", 2);
    REQUIRE(first.size() == 2);
    CHECK(first[0].id == "A");
    CHECK(first[1].id == "B");
    const auto next = s.claims_with(model::outcome::hold_review, "B", 2);
    REQUIRE(next.size() == 2);
    CHECK(next[1].id == "D");
    CHECK(s.claims_with(model::outcome::hold_review, "D", 2).empty());
  }

  TEST_CASE("the outbox retries, dead-letters and ignores a key queued twice") {
    temp_dir dir;
    store::sqlite_store s(dir.path, false);
    s.enqueue({0, "A:1", 0, "t", "x", 0}, 100);
    s.enqueue({0, "A:1", 0, "t", "x", 0}, 100);  // same key, same destination: once
    s.enqueue({0, "A:1", 1, "t", "x", 0}, 100);  // another destination
    CHECK(s.outbox().pending == 2);
    auto due = s.due(100, 10);
    REQUIRE(due.size() == 2);
    s.failed(due[0].id, 500, false, "connection refused");
    CHECK(s.due(100, 10).size() == 1);
    CHECK(s.next_due() == 100);
    s.delivered(due[1].id, 100);
    CHECK(s.next_due() == 500);
    REQUIRE(s.due(500, 10).size() == 1);
    CHECK(s.due(500, 10)[0].attempts == 1);
    s.failed(due[0].id, 0, true, "gave up");
    CHECK(s.outbox().dead == 1);
    CHECK(s.outbox().delivered == 1);
    CHECK_FALSE(s.next_due());
  }

  TEST_CASE("delivered items are kept until retention, then deleted in bounded batches") {
    temp_dir dir;
    store::sqlite_store s(dir.path, false);
    for (int i = 0; i < 5; ++i) {  // ids 1 to 5 delivered at 5000, 4000, ... 1000
      const auto id = s.enqueue({0, "D-" + std::to_string(i), 0, "t", "x", 0}, 100);
      s.delivered(id, 1000 * (5 - i));
    }
    const auto dead = s.enqueue({0, "dead", 0, "t", "x", 0}, 100);
    s.failed(dead, 0, true, "gave up");
    s.enqueue({0, "pending", 0, "t", "x", 0}, 100);  // due long before the cutoff: stays
    const auto entry = s.outbox_entry_of(1);
    REQUIRE(entry);
    CHECK(entry->state == "delivered");
    CHECK(entry->next_ms == 5000);  // a delivered item's time is when it was delivered
    CHECK(entry->attempts == 1);
    // Before 3500: three items (ids 3 to 5), at most two per call, the oldest first.
    CHECK(s.prune_delivered(3500, 2) == 2);
    CHECK(s.outbox().delivered == 3);
    CHECK(s.outbox_entry_of(3));
    CHECK_FALSE(s.outbox_entry_of(5));
    CHECK(s.prune_delivered(3500, 2) == 1);
    CHECK(s.prune_delivered(3500, 2) == 0);
    CHECK(s.outbox().delivered == 2);
    CHECK(s.outbox().dead == 1);
    CHECK(s.outbox().pending == 1);
    CHECK_FALSE(s.outbox_entry_of(3));
    CHECK(s.outbox_entry_of(2));  // delivered at 4000: kept
    // What retention forgot is no longer a repeat: the same key is queued again.
    CHECK(s.enqueue({0, "D-4", 0, "t", "x", 0}, 6000) > 0);
    CHECK(s.enqueue({0, "D-0", 0, "t", "x", 0}, 6000) == 0);  // still kept: still a repeat
  }

  TEST_CASE("the outbox's counts by state follow every change, undone with a rollback") {
    temp_dir dir;
    store::sqlite_store s(dir.path, false);
    const store::sqlite_store reader(dir.path, store::read_only);
    const auto counts = [](const store::sqlite_store& of) {
      const auto c = of.outbox();
      return std::vector<std::uint64_t>{c.pending, c.delivered, c.dead};
    };
    using v = std::vector<std::uint64_t>;
    CHECK(counts(s) == v{0, 0, 0});
    const auto a = s.enqueue({0, "A", 0, "t", "x", 0}, 100);
    const auto b = s.enqueue({0, "B", 0, "t", "x", 0}, 100);
    const auto c = s.enqueue({0, "C", store::host_destination, "t", "x", 0}, 100);
    CHECK(s.enqueue({0, "A", 0, "t", "x", 0}, 100) == 0);  // ignored: not counted
    CHECK(counts(s) == v{3, 0, 0});
    s.delivered(a, 200);
    s.failed(b, 300, false, "refused");  // still pending
    CHECK(counts(s) == v{2, 1, 0});
    s.failed(b, 0, true, "gave up");
    CHECK(counts(s) == v{1, 1, 1});
    CHECK(s.retry(b, 400) == store::retry_result::retried);
    CHECK(counts(s) == v{2, 1, 0});
    CHECK(s.remove(c, store::host_destination));
    CHECK(counts(s) == v{1, 1, 0});
    CHECK(counts(reader) == v{1, 1, 0});  // another connection reads the same counts
    s.begin();
    s.enqueue({0, "D", 0, "t", "x", 0}, 100);
    CHECK(s.prune_delivered(1000, 10) == 1);
    CHECK(counts(s) == v{2, 0, 0});
    CHECK(counts(reader) == v{1, 1, 0});  // not committed yet
    s.rollback();
    CHECK(counts(s) == v{1, 1, 0});
    store::sqlite_store reopened(dir.path, false);
    CHECK(counts(reopened) == v{1, 1, 0});
  }

  TEST_CASE("regression: the outbox's counts are read from their table, not by counting items") {
    // GET /metrics reads them at every scrape. Counting by state walked the outbox's index
    // (every delivered item until retention: 0.08 s a scrape at a million, growing).
    const auto steps = plan_of(store::sqlite_store::outbox_count_query);
    REQUIRE_FALSE(steps.empty());
    for (const auto& step : steps) {
      CAPTURE(step);
      CHECK(step.find("outbox_states") != std::string::npos);
      CHECK(step.find("outbox_due") == std::string::npos);
    }
  }

  TEST_CASE("a store from before the outbox's counts were kept is counted once when opened") {
    temp_dir dir;
    {
      store::sqlite_store s(dir.path, false);
      s.delivered(s.enqueue({0, "A", 0, "t", "x", 0}, 100), 200);
      s.enqueue({0, "B", 0, "t", "x", 0}, 100);
      s.enqueue({0, "C", 0, "t", "x", 0}, 100);
    }
    {
      // The store as versions before wrote it: no counts, no triggers.
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open((dir.path / "covgate.db").c_str(), &db) == SQLITE_OK);
      for (const char* sql : {"DROP TRIGGER outbox_added", "DROP TRIGGER outbox_removed",
                              "DROP TRIGGER outbox_moved", "DROP TABLE outbox_states"}) {
        INFO(sql);
        CHECK(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
      }
      sqlite3_close(db);
    }
    store::sqlite_store s(dir.path, false);
    CHECK(s.outbox().pending == 2);
    CHECK(s.outbox().delivered == 1);
    s.enqueue({0, "D", 0, "t", "x", 0}, 100);
    CHECK(s.outbox().pending == 3);
  }

  TEST_CASE("counts the triggers cannot see are counted again when the store is opened") {
    temp_dir dir;
    {
      store::sqlite_store s(dir.path, false);
      s.enqueue({0, "A", 0, "t", "x", 0}, 100);
      s.enqueue({0, "B", 0, "t", "x", 0}, 100);
    }
    {
      // REPLACE deletes the row it replaces without firing delete triggers, so the store
      // never uses it; a hand fixing the outbox in sqlite3 might.
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open((dir.path / "covgate.db").c_str(), &db) == SQLITE_OK);
      CHECK(sqlite3_exec(db,
                         "INSERT OR REPLACE INTO outbox(key, destination, content_type, body, "
                         "next_ms, state) VALUES('A', 0, 't', 'x', 0, 'dead')",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
      sqlite3_close(db);
    }
    store::sqlite_store s(dir.path, false);
    CHECK(s.outbox().pending == 1);
    CHECK(s.outbox().dead == 1);
  }

  TEST_CASE("the host's items wait for their host: never due, drained in order, removed once") {
    temp_dir dir;
    {
      store::sqlite_store s(dir.path, false);
      s.enqueue({0, "A-2", store::host_destination, "t", "first", 0}, 100);
      s.enqueue({0, "B-2", 0, "t", "serve's", 0}, 100);
      s.enqueue({0, "A-3", store::host_destination, "t", "second", 0}, 100);
      REQUIRE(s.due(1000, 10).size() == 1);  // serve's delivery worker sees only its own
      CHECK(s.due(1000, 10)[0].key == "B-2");
      s.delivered(s.due(1000, 10)[0].id, 1000);
      CHECK_FALSE(s.next_due());
      const auto all = s.pending(store::host_destination, 0, 10);
      REQUIRE(all.size() == 2);
      CHECK(all[0].body == "first");
      CHECK(all[1].body == "second");
      const auto after = s.pending(store::host_destination, all[0].id, 10);
      REQUIRE(after.size() == 1);
      CHECK(after[0].key == "A-3");
      CHECK(s.remove(all[0].id, store::host_destination));
      CHECK_FALSE(s.remove(all[0].id, store::host_destination));
    }
    store::sqlite_store again(dir.path, false);  // what was not removed comes back
    const auto left = again.pending(store::host_destination, 0, 10);
    REQUIRE(left.size() == 1);
    CHECK(left[0].body == "second");
  }

  TEST_CASE("regression: an outbox item's id is never given again, in a store from before too") {
    // The newest item's id, once acknowledged, went to the next item (SQLite's max(id) + 1):
    // a host acknowledging it again deleted an item it had never seen.
    bool from_before = false;
    SUBCASE("a new store") {}
    SUBCASE("a store whose outbox ids were not AUTOINCREMENT") { from_before = true; }
    temp_dir dir;
    std::int64_t kept = 0, acknowledged = 0;
    {
      store::sqlite_store s(dir.path, false);
      kept = s.enqueue({0, "A-2", store::host_destination, "t", "kept", 0}, 100);
      acknowledged = s.enqueue({0, "B-2", store::host_destination, "t", "taken", 0}, 100);
      REQUIRE(acknowledged > kept);
    }
    if (from_before) {
      // The table as versions before wrote it, with the same rows.
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open((dir.path / "covgate.db").c_str(), &db) == SQLITE_OK);
      for (const char* sql :
           {"CREATE TABLE old_outbox(id INTEGER PRIMARY KEY, key TEXT NOT NULL, destination "
            "INTEGER NOT NULL, content_type TEXT NOT NULL, body BLOB NOT NULL, attempts INTEGER "
            "NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL, state TEXT NOT NULL DEFAULT "
            "'pending', last_error TEXT NOT NULL DEFAULT '', UNIQUE(key, destination))",
            "INSERT INTO old_outbox SELECT * FROM outbox", "DROP TABLE outbox",
            "ALTER TABLE old_outbox RENAME TO outbox",
            "CREATE INDEX outbox_due ON outbox(state, next_ms)"}) {
        INFO(sql);
        CHECK(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
      }
      sqlite3_close(db);
    }
    store::sqlite_store s(dir.path, false);
    REQUIRE(s.pending(store::host_destination, 0, 10).size() == 2);  // the rows kept their ids
    CHECK(s.pending(store::host_destination, 0, 10)[0].id == kept);
    CHECK(s.remove(acknowledged, store::host_destination));
    const auto next = s.enqueue({0, "C-2", store::host_destination, "t", "new", 0}, 100);
    CHECK(next > acknowledged);
    CHECK_FALSE(s.remove(acknowledged, store::host_destination));  // a host's retry
    const auto left = s.pending(store::host_destination, 0, 10);
    REQUIRE(left.size() == 2);
    CHECK(left[1].body == "new");
    CHECK(s.outbox().pending == 2);  // counted after the rebuild, and kept counted
    s.delivered(left[0].id, 200);
    CHECK(s.outbox().pending == 1);
    CHECK(s.outbox().delivered == 1);
  }

  TEST_CASE("journal pruning by age, then by size from the oldest row") {
    temp_dir dir;
    store::sqlite_store s(dir.path, false);
    for (int i = 0; i < 10; ++i)
      s.journal(entry(i * 1000, "mllp", "h", i % 2 ? "x12" : "fhir", std::string(100, 'x')));
    CHECK(s.prune_journal(10'000, std::chrono::milliseconds(5'500), 1u << 30) == 5);
    CHECK(s.journal_bytes() == 500);
    CHECK(s.prune_journal(10'000, std::chrono::milliseconds(100'000), 300) == 2);
    CHECK(s.journal_bytes() == 300);
    std::vector<std::int64_t> left;
    for (const char* kind : {"x12", "fhir"}) {
      s.for_each_journal(kind, [&](const store::journal_entry& e) { left.push_back(e.id); });
    }
    std::sort(left.begin(), left.end());
    CHECK(left == std::vector<std::int64_t>{8, 9, 10});
    CHECK(s.prune_journal(100'000, std::chrono::milliseconds(1), 1u << 30) == 3);
    CHECK(s.journal_bytes() == 0);
    CHECK(s.journal(entry(100'000, "mllp", "h", "x12", "x")) == 11);  // ids are never reused
    CHECK(s.journal_bytes() == 1);
    CHECK(s.prune_journal(200'000, std::chrono::milliseconds(1), 1u << 30) == 1);
    store::sqlite_store reopened(dir.path, false);
    CHECK(reopened.journal(entry(200'000, "mllp", "h", "x12", "x")) == 12);  // nor after a restart
  }

  TEST_CASE("regression: the journal's byte limit holds as rows are written, not hourly") {
    temp_dir dir;
    store::sqlite_store s(dir.path, false);
    s.limit_journal_bytes(1u << 20);
    const std::string five_mb(5u << 20, 'g');
    for (int i = 0; i < 10; ++i) {
      CHECK(s.next_journal_id() == i + 1);
      CHECK(s.journal(entry(i, "mllp", "h", "unknown", five_mb)) == i + 1);
      // Never more than the limit plus the newest message.
      CHECK(s.journal_bytes() <= (1u << 20) + five_mb.size());
    }
    CHECK(s.journal_bytes() == five_mb.size());  // the newest alone: every older row went
    CHECK(s.journal_rows_pruned() == 9);
    // Small rows under the limit are all kept.
    store::sqlite_store small(dir.path / "small", false);
    small.limit_journal_bytes(1u << 20);
    for (int i = 0; i < 100; ++i) (void)small.journal(entry(i, "mllp", "h", "x12", "x"));
    CHECK(small.journal_bytes() == 100);
    CHECK(small.journal_rows_pruned() == 0);
  }

  TEST_CASE("a message refused whole can be journaled as its first bytes and a digest") {
    temp_dir dir;
    store::sqlite_store s(dir.path, false);
    auto e = entry(1, "mllp", "h", "unknown", std::string(1024, 'g'));
    e.received_bytes = 5u << 20;
    e.digest = "sha256:00";
    (void)s.journal(e);
    CHECK(s.journal_bytes() == 1024);  // what is stored counts, not what arrived
  }

  TEST_CASE("remembered interchanges are answered back until retention forgets them") {
    temp_dir dir;
    store::sqlite_store s(dir.path, false);
    s.remember_interchange("ZZ/A/000000001", 1'000, {"ISA*277 one", false, 1, 42});
    s.remember_interchange("ZZ/A/000000002", 9'000, {"ISA*277 two", true, 0, 43});
    REQUIRE(s.interchange("ZZ/A/000000001"));
    CHECK(s.interchange("ZZ/A/000000001")->body == "ISA*277 one");
    CHECK(s.interchange("ZZ/A/000000002")->rejected);
    CHECK(s.interchange("ZZ/A/000000002")->message_digest == 43);
    CHECK_FALSE(s.interchange("ZZ/B/000000001"));
    (void)s.prune_journal(10'000, std::chrono::milliseconds(5'000), 1u << 30);
    CHECK_FALSE(s.interchange("ZZ/A/000000001"));
    CHECK(s.interchange("ZZ/A/000000002"));
    (void)s.prune_journal(100'000, std::chrono::milliseconds(5'000), 1u << 30);
    CHECK_FALSE(s.interchange("ZZ/A/000000002"));
  }

  TEST_CASE("facts keep one row per resource: its newest version, or its retraction") {
    temp_dir dir;
    {
      store::sqlite_store s(dir.path, false);
      s.save_facts("Observation/1", "2026-03-02T00:00:00Z", "v2");
      s.save_facts("Patient/1", "", "p");
      s.save_facts("Observation/1", "2026-03-01T00:00:00Z", "v1 (older: ignored)");
      s.save_facts("Observation/2", "", "a");
      s.save_facts("Observation/2", "", "b (no lastUpdated: arrival order)");
      s.save_facts("Observation/3", "2026-03-01T00:00:00Z", "x");
      s.save_facts("Observation/3", "", "retracted");
    }
    store::sqlite_store s(dir.path, false);
    std::vector<std::string> rows;
    s.for_each_facts([&](std::string_view body) { rows.emplace_back(body); });
    CHECK(rows ==
          std::vector<std::string>{"v2", "p", "b (no lastUpdated: arrival order)", "retracted"});
    s.save_facts("Observation/1", "2026-03-02T00:00:00Z", "v2 again");  // same: later wins
    rows.clear();
    s.for_each_facts([&](std::string_view body) { rows.emplace_back(body); });
    CHECK(rows.back() == "v2 again");
  }

  TEST_CASE("an unwritable directory is a clear store_error") {
    CHECK_THROWS_AS(store::sqlite_store("/proc/covgate-cannot-write-here", false),
                    store::store_error);
  }

  TEST_CASE("a read-only connection reads committed state while the writer's transaction is open") {
    temp_dir dir;
    store::sqlite_store writer(dir.path, false);
    writer.begin();
    writer.save(test::stored_claim("A", model::outcome::hold_documentation));
    writer.commit();
    const store::sqlite_store reader(dir.path, store::read_only);
    writer.begin();  // a long evaluation in progress: uncommitted, and holding the write lock
    writer.save(test::stored_claim("B", model::outcome::hold_documentation));
    auto a = test::stored_claim("A", model::outcome::release);
    writer.save(a);
    // Not blocked (the busy timeout would make a blocked read take seconds, then throw), and
    // what a reader sees is what would survive a crash now.
    REQUIRE(reader.load("A"));
    CHECK(reader.load("A")->decision.result == model::outcome::hold_documentation);
    CHECK_FALSE(reader.load("B"));
    CHECK(reader.claims_with(model::outcome::hold_documentation, "", 10).size() == 1);
    const auto before = reader.claim_writes();
    writer.commit();
    CHECK(reader.load("B"));
    CHECK(reader.load("A")->decision.result == model::outcome::release);
    // The change version a page polls moves with the writer's commits (regression: it read
    // the reader's own, never-changing write count).
    CHECK(reader.claim_writes() != before);
  }

  TEST_CASE("the read-only connection refuses writes and in-memory stores") {
    temp_dir dir;
    { store::sqlite_store writer(dir.path, false); }
    store::sqlite_store reader(dir.path, store::read_only);
    CHECK_THROWS_AS(reader.save(test::stored_claim("A")), store::store_error);
    CHECK_THROWS_AS(store::sqlite_store(":memory:", store::read_only), store::store_error);
    CHECK_THROWS_AS(store::sqlite_store(dir.path / "absent", store::read_only), store::store_error);
  }
}

TEST_SUITE("store.sqlite_store.applied") {
  using store::applied_position;
  using store::apply_verdict;

  TEST_CASE("a redelivered stream sequence is skipped and a lower epoch refused") {
    store::sqlite_store s("", false);
    CHECK_FALSE(s.applied(3));
    s.begin();
    CHECK(s.record_applied(3, 10, 5) == apply_verdict::apply);
    s.commit();
    CHECK(s.applied(3) == applied_position{10, 5});

    s.begin();
    CHECK(s.record_applied(3, 10, 5) == apply_verdict::already_applied);  // redelivered
    CHECK(s.record_applied(3, 7, 5) == apply_verdict::already_applied);
    CHECK(s.record_applied(3, 10, 6) ==
          apply_verdict::already_applied);                            // a new owner's redelivery
    CHECK(s.record_applied(3, 11, 4) == apply_verdict::stale_epoch);  // fenced off
    CHECK(s.applied(3) == applied_position{10, 5});                   // none of them wrote
    CHECK(s.record_applied(3, 11, 5) == apply_verdict::apply);
    CHECK(s.record_applied(3, 12, 6) == apply_verdict::apply);  // a higher epoch continues
    CHECK(s.record_applied(3, 13, 5) == apply_verdict::stale_epoch);
    s.commit();
    CHECK(s.applied(3) == applied_position{12, 6});
    CHECK_FALSE(s.applied(4));  // partitions are independent
  }

  TEST_CASE("the position commits or rolls back with the state change, and survives reopening") {
    temp_dir dir;
    {
      store::sqlite_store s(dir.path, false);
      s.begin();
      CHECK(s.record_applied(0, 1, 1) == apply_verdict::apply);
      s.set_counter("state", 1);
      s.commit();
      // A crash before commit: neither the state change nor the position remain.
      s.begin();
      CHECK(s.record_applied(0, 2, 1) == apply_verdict::apply);
      s.set_counter("state", 2);
      s.rollback();
      CHECK(s.applied(0) == applied_position{1, 1});
      CHECK(s.counter("state", 0) == 1);
    }
    store::sqlite_store reopened(dir.path, false);
    CHECK(reopened.applied(0) == applied_position{1, 1});
    reopened.begin();
    CHECK(reopened.record_applied(0, 2, 1) == apply_verdict::apply);  // the redelivery applies
    reopened.commit();
    CHECK(reopened.applied(0) == applied_position{2, 1});
  }

  TEST_CASE("recording a position outside a transaction, or beyond SQLite's integers, throws") {
    store::sqlite_store s("", false);
    CHECK_THROWS_AS(s.record_applied(0, 1, 1), store::store_error);
    CHECK_FALSE(s.applied(0));
    s.begin();
    CHECK_THROWS_AS(s.record_applied(0, std::uint64_t{1} << 63, 1), store::store_error);
    CHECK_THROWS_AS(s.record_applied(0, 1, std::uint64_t{1} << 63), store::store_error);
    s.rollback();
  }
}
