// The store's writing connection goes through wal_gathering_vfs: its commits reach the WAL in
// one write call (or a few, for large ones), and everything else stays as SQLite wrote it.
#include "wal_gathering_vfs.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <string>

#include "covgate/store/sqlite_store.hpp"
#include "support/failing_sync_vfs.hpp"
#include "support/gate_fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace covgate;

namespace {

using covgate::test::failing_sync_vfs;
using covgate::test::temp_dir;

std::string claim_id(int i) { return "GATHER" + std::to_string(i); }

// `count` claims in one transaction; how many write calls reached the WAL for it.
int write_calls_to_commit(store::sqlite_store& s, int first, int count) {
  const int before = failing_sync_vfs::wal_writes;
  s.begin();
  for (int i = first; i < first + count; ++i) s.save(test::stored_claim(claim_id(i).c_str()));
  s.commit();
  return failing_sync_vfs::wal_writes - before;
}

// Frames the WAL holds: its size after a 32-byte header, in frames of 24 bytes and a page.
long wal_frames(const std::filesystem::path& dir) {
  return static_cast<long>((std::filesystem::file_size(dir / "covgate.db-wal") - 32) / (24 + 4096));
}

// What a connection of its own, through the default VFS, finds in the store's file.
std::string ask(const std::filesystem::path& dir, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((dir / "covgate.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
          SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK);
  std::string answer;
  if (sqlite3_step(s) == SQLITE_ROW)
    answer = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return answer;
}

}  // namespace

TEST_SUITE("store.wal_gathering_vfs") {
  TEST_CASE("a commit reaches the WAL in one write call, not two per frame") {
    failing_sync_vfs vfs;  // counts the write calls that reach the WAL
    temp_dir dir;
    store::sqlite_store s(dir.path, true);
    // SQLite syncs nothing at a commit: serve's way (its committer syncs the WAL itself), where
    // nothing but the commit's own frame writes what was kept.
    SUBCASE("deferred sync") { s.defer_sync(); }
    SUBCASE("SQLite's own sync at each commit"){}(void)write_calls_to_commit(
        s, 0, 1);  // the WAL's header and the schema's first pages
    const long frames_before = wal_frames(dir.path);
    CHECK(write_calls_to_commit(s, 1, 1) == 1);
    const long frames = wal_frames(dir.path) - frames_before;
    CHECK(frames >= 5);  // a claim's row and its indexes: SQLite alone makes 2 calls of each
    // Another connection sees the commit at once: the frames were in the file before SQLite
    // made them visible in the wal-index.
    CHECK(ask(dir.path, "SELECT count(*) FROM claims") == "2");
  }

  TEST_CASE("a large commit goes in pieces of less than 128 KiB") {
    // The unix VFS writes at most 128 KiB - 1 bytes a call and takes a shorter write for a
    // full disk: one call for everything failed a 1.4 MB commit as 'database or disk is full'.
    failing_sync_vfs vfs;
    temp_dir dir;
    store::sqlite_store s(dir.path, true);
    const long frames_before = wal_frames(dir.path);
    const int calls = write_calls_to_commit(s, 0, 3000);
    const long bytes = (wal_frames(dir.path) - frames_before) * (24 + 4096);
    REQUIRE(bytes > 8 * 0x1ffff);
    CHECK(calls >= bytes / 0x1ffff);
    CHECK(calls <= bytes / 0x1ffff + 2);
    CHECK(ask(dir.path, "SELECT count(*) FROM claims") == "3000");
    CHECK(ask(dir.path, "PRAGMA integrity_check") == "ok");
  }

  TEST_CASE("a transaction past what is kept, its cache spilling and pages written again") {
    // SQLite writes a page it wrote earlier in the same transaction over its frame: writes
    // out of order, each writing what was kept first.
    failing_sync_vfs vfs;
    temp_dir dir;
    {
      store::sqlite_store s(dir.path, true);
      const long frames_before = wal_frames(dir.path);
      const int calls = write_calls_to_commit(s, 0, 12000);
      const long frames = wal_frames(dir.path) - frames_before;
      REQUIRE(frames * (24 + 4096) > 4 * (1 << 20));
      CHECK(calls < 2 * frames);  // never more than SQLite's own two a frame
      CHECK(ask(dir.path, "SELECT count(*) FROM claims") == "12000");
      CHECK(ask(dir.path, "PRAGMA integrity_check") == "ok");
    }
    store::sqlite_store reopened(dir.path, true);
    CHECK(reopened.load(claim_id(11999)));
    CHECK(ask(dir.path, "PRAGMA integrity_check") == "ok");
  }

  TEST_CASE("a WAL that was there before the store opened is appended to, gathered as well") {
    failing_sync_vfs vfs;
    temp_dir dir;
    { store::sqlite_store s(dir.path, true); }
    // Another connection keeps the WAL with a commit in it (no checkpoint, no removal).
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open((dir.path / "covgate.db").c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "PRAGMA wal_autocheckpoint=0; INSERT INTO meta VALUES('other', 1);",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    {
      store::sqlite_store s(dir.path, true);
      REQUIRE(wal_frames(dir.path) > 0);
      (void)write_calls_to_commit(s, 0, 1);  // the first: the WAL's page size read from it
      CHECK(write_calls_to_commit(s, 1, 1) == 1);
      CHECK(ask(dir.path, "SELECT count(*) FROM claims") == "2");
    }
    sqlite3_close(other);
    store::sqlite_store reopened(dir.path, true);
    CHECK(reopened.load(claim_id(1)));
    CHECK(ask(dir.path, "SELECT value FROM meta WHERE name = 'other'") == "1");
  }

  TEST_CASE("a commit that cannot be written fails at the commit and leaves nothing behind") {
    failing_sync_vfs vfs;
    temp_dir dir;
    store::sqlite_store s(dir.path, true);
    (void)write_calls_to_commit(s, 0, 1);
    failing_sync_vfs::fail_wal_writes = true;
    s.begin();
    s.save(test::stored_claim("LOST"));
    CHECK_THROWS_AS(s.commit(), store::store_error);
    try {
      s.rollback();
    } catch (const store::store_error&) {
    }
    failing_sync_vfs::fail_wal_writes = false;
    CHECK_FALSE(s.load("LOST"));
    CHECK(ask(dir.path, "SELECT count(*) FROM claims") == "1");
    (void)write_calls_to_commit(s, 1, 1);  // the next commit writes over what failed
    CHECK(ask(dir.path, "SELECT count(*) FROM claims") == "2");
    CHECK(ask(dir.path, "PRAGMA integrity_check") == "ok");
  }
}
