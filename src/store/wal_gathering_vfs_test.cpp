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

// What a connection of its own, through the default VFS, finds in a database file.
std::string ask_file(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK);
  std::string answer;
  if (sqlite3_step(s) == SQLITE_ROW)
    answer = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return answer;
}

// The same, of a store's file.
std::string ask(const std::filesystem::path& dir, const char* sql) {
  return ask_file(dir / "covgate.db", sql);
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

namespace {

// A connection of the shim's own, set as serve's writer is (WAL, no automatic checkpoint,
// SQLite syncing nothing at a commit) with a page cache of 20 pages, so that a transaction of
// a few hundred rows spills to the WAL before it commits and writes some pages again.
sqlite3* small_cache_writer(const std::filesystem::path& file, const std::string& schema) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                          store::wal_gathering_vfs()) == SQLITE_OK);
  const std::string setup =
      "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=NORMAL;"
      "PRAGMA cache_size=20; " +
      schema;
  REQUIRE(sqlite3_exec(db, setup.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  return db;
}

int exec(sqlite3* db, const std::string& sql) {
  return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
}

// `n` rows into t(v, k): blobs of `bytes`, keys from `first_key` on.
std::string rows_inserting(int n, int bytes = 200, int first_key = 0) {
  return "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < " +
         std::to_string(n) + ") INSERT INTO t(v, k) SELECT randomblob(" + std::to_string(bytes) +
         "), " + std::to_string(first_key) + " + i FROM c";
}

// What a process killed now leaves: the database and WAL files copied elsewhere (no -shm:
// the copy's first reader recovers the WAL, stopping at the last commit whose frames check).
std::filesystem::path crash_copy(const std::filesystem::path& dir) {
  const auto copy = dir / "crashed";
  std::filesystem::create_directories(copy);
  std::filesystem::copy_file(dir / "t.db", copy / "t.db");
  std::filesystem::copy_file(dir / "t.db-wal", copy / "t.db-wal");
  return copy / "t.db";
}

}  // namespace

TEST_SUITE("store.wal_gathering_vfs") {
  TEST_CASE("regression: a commit that rewrote its own frames' headers is in the file at once") {
    // A transaction that spilled and wrote a page again has its frames' checksums written
    // last, the commit frame's header the very last: the first version kept that header
    // (a frame's start) after COMMIT returned, so a crash lost the commit, and the
    // checkpointer could copy its pages meanwhile.
    temp_dir dir;
    std::filesystem::create_directories(dir.path);
    sqlite3* db = small_cache_writer(dir.path / "t.db",
                                     "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB, k INTEGER);"
                                     "CREATE INDEX t_v ON t(v);");
    REQUIRE(exec(db, rows_inserting(100)) == SQLITE_OK);
    REQUIRE(exec(db, "BEGIN; " + rows_inserting(3000) + "; COMMIT") == SQLITE_OK);
    const auto crashed = crash_copy(dir.path);
    CHECK(ask_file(crashed, "SELECT count(*) FROM t") == "3100");
    CHECK(ask_file(crashed, "PRAGMA integrity_check") == "ok");
    sqlite3_close(db);
  }

  TEST_CASE("regression: spilled frames of a rolled-back transaction never cover another's") {
    // Kept past the rollback, they were written at the next read, over the frames another
    // writer (covgate audit, a shell) had committed meanwhile: 'file is not a database'.
    temp_dir dir;
    std::filesystem::create_directories(dir.path);
    sqlite3* a = small_cache_writer(dir.path / "t.db",
                                    "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB, k INTEGER);"
                                    "CREATE TABLE u(x TEXT);");
    REQUIRE(exec(a, rows_inserting(200, 300)) == SQLITE_OK);
    sqlite3* b = nullptr;
    REQUIRE(sqlite3_open((dir.path / "t.db").c_str(), &b) == SQLITE_OK);
    // The WAL starts over at a's next write: page 1 is no longer in it, so nothing a's
    // rollback reads again makes it write what it kept.
    REQUIRE(exec(b, "PRAGMA wal_checkpoint(RESTART)") == SQLITE_OK);
    REQUIRE(exec(a, "BEGIN; " + rows_inserting(400, 300)) == SQLITE_OK);
    REQUIRE(exec(a, "ROLLBACK") == SQLITE_OK);
    REQUIRE(exec(b, "PRAGMA synchronous=NORMAL; " + rows_inserting(50, 300) +
                        "; INSERT INTO u VALUES('committed by b')") == SQLITE_OK);
    REQUIRE(exec(a, "SELECT count(*) FROM t") == SQLITE_OK);  // its reads write what it kept
    const auto file = dir.path / "t.db";
    CHECK(ask_file(file, "SELECT x FROM u") == "committed by b");
    CHECK(ask_file(file, "SELECT count(*) FROM t") == "250");
    CHECK(ask_file(file, "PRAGMA integrity_check") == "ok");
    sqlite3_close(b);
    sqlite3_close(a);
  }

  TEST_CASE("regression: spilled frames that fail to reach the file fail the transaction") {
    // Written out late (by a read inside a later statement) onto a full disk, their failure
    // came back as a failed read: SQLite rolled back that statement alone and committed the
    // transaction, its wal-index pointing at frames that were never written.
    failing_sync_vfs vfs;
    temp_dir dir;
    std::filesystem::create_directories(dir.path);
    sqlite3* db = small_cache_writer(
        dir.path / "t.db",
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB NOT NULL, k INTEGER UNIQUE);"
        "CREATE TABLE s(id INTEGER PRIMARY KEY, x TEXT NOT NULL UNIQUE);");
    REQUIRE(exec(db, rows_inserting(20, 300)) == SQLITE_OK);
    REQUIRE(exec(db, "BEGIN IMMEDIATE; " + rows_inserting(300, 300, 100)) == SQLITE_OK);
    REQUIRE(exec(db, "SAVEPOINT part") == SQLITE_OK);
    failing_sync_vfs::fail_wal_writes = true;
    CHECK(exec(db, "INSERT INTO s(x) SELECT hex(v) FROM t WHERE id < 200") != SQLITE_OK);
    failing_sync_vfs::fail_wal_writes = false;
    (void)exec(db, "ROLLBACK TO part");
    (void)exec(db, "RELEASE part");
    const int committed = exec(db, "COMMIT");
    CHECK((committed != SQLITE_OK || sqlite3_get_autocommit(db) != 0));
    sqlite3_close(db);
    // Nothing of the transaction: its 300 rows went with it, and the file is whole.
    const auto file = dir.path / "t.db";
    CHECK(ask_file(file, "SELECT count(*) FROM t") == "20");
    CHECK(ask_file(file, "PRAGMA integrity_check") == "ok");
  }
}

namespace {

// A writer (as small_cache_writer) of 300 rows of 900 bytes in t(id, v), with a cache of
// 2,000 KiB: large enough to keep a transaction's few pages until sqlite3_db_cacheflush.
sqlite3* writer_of_300_rows(const std::filesystem::path& file) {
  sqlite3* db = small_cache_writer(file, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);");
  REQUIRE(exec(db,
               "PRAGMA cache_size=-2000; WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + "
               "1 FROM c WHERE i < 300) INSERT INTO t(v) SELECT randomblob(900) FROM c") ==
          SQLITE_OK);
  return db;
}

}  // namespace

TEST_SUITE("store.wal_gathering_vfs") {
  TEST_CASE("regression: frames lost while SQLite kept the transaction open never commit") {
    // PRAGMA quick_check reports a failed read as a result row and leaves the transaction
    // open; the next page written again below the hole had been taken for SQLite going back
    // to it, and COMMIT succeeded with a frame that never reached the file.
    failing_sync_vfs vfs;
    temp_dir dir;
    std::filesystem::create_directories(dir.path);
    const auto file = dir.path / "t.db";
    sqlite3* db = writer_of_300_rows(file);
    // Opened again while another connection holds the WAL: it appends to a WAL it did not
    // start, with a cache large enough to keep the pages below.
    sqlite3* holder = nullptr;
    REQUIRE(sqlite3_open_v2(file.c_str(), &holder, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    REQUIRE(exec(holder, "SELECT count(*) FROM t") == SQLITE_OK);
    sqlite3_close(db);
    REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, store::wal_gathering_vfs()) ==
            SQLITE_OK);
    REQUIRE(exec(db, "PRAGMA synchronous=NORMAL") == SQLITE_OK);
    REQUIRE(exec(db,
                 "BEGIN; SELECT length(v) FROM t WHERE id = 150;"
                 "UPDATE t SET v = randomblob(900) WHERE id = 1") == SQLITE_OK);
    REQUIRE(sqlite3_db_cacheflush(db) == SQLITE_OK);                           // its frame, kept
    REQUIRE(exec(db, "SELECT length(v) FROM t WHERE id = 300") == SQLITE_OK);  // ... written
    REQUIRE(exec(db, "UPDATE t SET v = zeroblob(900) WHERE id = 300") == SQLITE_OK);
    REQUIRE(sqlite3_db_cacheflush(db) == SQLITE_OK);  // row 300's page: kept
    failing_sync_vfs::fail_wal_writes = true;
    (void)exec(db, "PRAGMA quick_check");  // its reads write what is kept: that fails
    failing_sync_vfs::fail_wal_writes = false;
    (void)exec(db, "UPDATE t SET v = randomblob(900) WHERE id IN (1, 150)");
    CHECK(exec(db, "COMMIT") != SQLITE_OK);
    (void)exec(db, "ROLLBACK");
    CHECK(ask_file(file, "SELECT count(*) FROM t WHERE v = zeroblob(900)") == "0");
    CHECK(ask_file(file, "PRAGMA integrity_check") == "ok");
    // The hole went with the transaction: the connection writes again.
    CHECK(exec(db, "INSERT INTO t(v) VALUES (randomblob(900))") == SQLITE_OK);
    CHECK(ask_file(file, "SELECT count(*) FROM t") == "301");
    sqlite3_close(db);
    sqlite3_close(holder);
  }

  TEST_CASE("regression: a rolled-back transaction's kept frames are dropped, never written") {
    // They were written when the write lock was given up; on a full disk that left a hole
    // that failed every later read and write of the connection until a checkpoint.
    failing_sync_vfs vfs;
    temp_dir dir;
    std::filesystem::create_directories(dir.path);
    const auto file = dir.path / "t.db";
    sqlite3* a = writer_of_300_rows(file);
    REQUIRE(exec(a, "BEGIN; UPDATE t SET v = randomblob(900) WHERE id IN (1, 300)") == SQLITE_OK);
    REQUIRE(sqlite3_db_cacheflush(a) == SQLITE_OK);  // kept
    const int writes = failing_sync_vfs::wal_writes;
    failing_sync_vfs::fail_wal_writes = true;
    CHECK(exec(a, "ROLLBACK") == SQLITE_OK);
    failing_sync_vfs::fail_wal_writes = false;
    CHECK(failing_sync_vfs::wal_writes == writes);
    sqlite3* b = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &b) == SQLITE_OK);
    REQUIRE(exec(b, "UPDATE t SET v = randomblob(900) WHERE id BETWEEN 100 AND 140") == SQLITE_OK);
    sqlite3_close(b);
    REQUIRE(sqlite3_db_release_memory(a) == SQLITE_OK);  // a reads its pages again
    CHECK(exec(a, "SELECT count(*), sum(length(v)) FROM t") == SQLITE_OK);
    CHECK(exec(a, "INSERT INTO t(v) VALUES (randomblob(900))") == SQLITE_OK);
    CHECK(ask_file(file, "SELECT count(*) FROM t") == "301");
    CHECK(ask_file(file, "PRAGMA integrity_check") == "ok");
    sqlite3_close(a);
  }
}
