// The checkpointing connection goes through paced_writeback_vfs: a PASSIVE copy's pages are
// written back in pieces while the store hands the shim a descriptor, and a piece the disk
// cannot take fails the copy as a failed sync does.
#include "paced_writeback_vfs.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "covgate/store/sqlite_store.hpp"
#include "support/gate_fixtures.hpp"
#include "support/open_files.hpp"
#include "support/temp_dir.hpp"
#include "wal_gathering_vfs.hpp"

using namespace covgate;

namespace {

using covgate::test::temp_dir;

// A writer as the store's (WAL, no automatic checkpoint) through the default VFS.
sqlite3* open_writer(const std::filesystem::path& file) {
  std::filesystem::create_directories(file.parent_path());
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) ==
          SQLITE_OK);
  REQUIRE(sqlite3_exec(db,
                       "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
                       "CREATE TABLE IF NOT EXISTS t(x BLOB)",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  return db;
}

sqlite3* open_checkpointer(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, store::paced_writeback_vfs()) ==
          SQLITE_OK);
  sqlite3_extended_result_codes(db, 1);
  // A connection learns that the file is in WAL mode when it first reads it.
  REQUIRE(sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) == SQLITE_OK);
  return db;
}

// `rows` rows of 4,000 bytes each in one transaction: about a page each in the WAL.
void fill(sqlite3* db, int rows) {
  const std::string sql =
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
      std::to_string(rows) + ") INSERT INTO t SELECT randomblob(4000) FROM n";
  REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
}

int passive(sqlite3* db, int* copied) {
  return sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, copied);
}

}  // namespace

#if defined(__linux__)  // elsewhere the shim only forwards
TEST_SUITE("paced_writeback_vfs") {
  TEST_CASE("a PASSIVE copy is written back in pieces while a descriptor is set, only then") {
    temp_dir dir;
    const auto file = dir.path / "paced.db";
    sqlite3* writer = open_writer(file);
    sqlite3* checkpointer = open_checkpointer(file);
    const int descriptor = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(descriptor >= 0);

    fill(writer, 1000);  // about 4 MB of pages to copy
    auto pieces = store::pieces_written_back();
    int copied = 0;
    REQUIRE(passive(checkpointer, &copied) == SQLITE_OK);
    CHECK(copied > 1000);
    CHECK(store::pieces_written_back() == pieces);  // not paced: no descriptor

    fill(writer, 1000);
    pieces = store::pieces_written_back();
    const auto bytes = store::bytes_written_back();
    REQUIRE(store::set_writeback_descriptor(checkpointer, descriptor) == SQLITE_OK);
    REQUIRE(passive(checkpointer, &copied) == SQLITE_OK);
    const auto during_copy = store::pieces_written_back() - pieces;
    REQUIRE(store::set_writeback_descriptor(checkpointer, -1) == SQLITE_OK);
    // A piece a quarter of a megabyte of writes: 1,000 pages of 4 KB are 15 of them, the rest
    // (the database's header page, the last part) written back when pacing stops.
    const auto written = static_cast<std::uint64_t>(copied) * 4096;
    CHECK(during_copy >= written / store::writeback_piece_bytes - 2);
    CHECK(during_copy <= written / store::writeback_piece_bytes + 1);
    CHECK(store::pieces_written_back() - pieces <= during_copy + 1);
    // The spans cover what was written (a span from its lowest to its highest page).
    CHECK(store::bytes_written_back() - bytes >= written);

    fill(writer, 1000);
    pieces = store::pieces_written_back();
    REQUIRE(passive(checkpointer, &copied) == SQLITE_OK);
    CHECK(store::pieces_written_back() == pieces);  // stopped again

    CHECK(sqlite3_close(checkpointer) == SQLITE_OK);
    CHECK(sqlite3_close(writer) == SQLITE_OK);
    ::close(descriptor);  // after the connections: closing it drops the process's locks
  }

  TEST_CASE("a piece that cannot be written back fails the copy as a failed sync") {
    temp_dir dir;
    const auto file = dir.path / "paced.db";
    sqlite3* writer = open_writer(file);
    sqlite3* checkpointer = open_checkpointer(file);
    int pipe_ends[2] = {-1, -1};
    REQUIRE(::pipe(pipe_ends) == 0);  // a descriptor sync_file_range refuses (ESPIPE)

    fill(writer, 200);
    REQUIRE(store::set_writeback_descriptor(checkpointer, pipe_ends[0]) == SQLITE_OK);
    int copied = 0;
    CHECK(store::writeback_errno(checkpointer) == 0);
    CHECK(passive(checkpointer, &copied) == SQLITE_IOERR_FSYNC);
    errno = 0;
    CHECK(store::writeback_errno(checkpointer) == ESPIPE);  // kept, whatever errno is now
    CHECK(store::set_writeback_descriptor(checkpointer, -1) == SQLITE_OK);  // nothing pending
    CHECK(store::writeback_errno(writer) == 0);  // the writer's file is not the shim's

    REQUIRE(passive(checkpointer, &copied) == SQLITE_OK);  // not paced, the copy completes
    // Set again for a copy of less than a piece: what is pending is written back when pacing
    // stops.
    fill(writer, 10);
    REQUIRE(store::set_writeback_descriptor(checkpointer, pipe_ends[0]) == SQLITE_OK);
    CHECK(passive(checkpointer, &copied) == SQLITE_OK);  // less than a piece
    CHECK(store::set_writeback_descriptor(checkpointer, -1) == SQLITE_IOERR_FSYNC);
    CHECK(store::writeback_errno(checkpointer) == ESPIPE);

    ::close(pipe_ends[0]);
    ::close(pipe_ends[1]);
    CHECK(sqlite3_close(checkpointer) == SQLITE_OK);
    CHECK(sqlite3_close(writer) == SQLITE_OK);
  }

  TEST_CASE("a shim's file claims no more methods than the file it wraps") {
    // unix-dotfile's files are version 1 (no shared memory): through either shim SQLite must
    // see that, and refuse WAL mode, rather than call a shared-memory method that is null.
    sqlite3_vfs* system = sqlite3_vfs_find(nullptr);
    sqlite3_vfs* dotfile = sqlite3_vfs_find("unix-dotfile");
    REQUIRE(dotfile != nullptr);
    REQUIRE(sqlite3_vfs_register(dotfile, 1) == SQLITE_OK);
    temp_dir dir;
    std::filesystem::create_directories(dir.path);
    for (const char* shim : {store::paced_writeback_vfs(), store::wal_gathering_vfs()}) {
      CAPTURE(shim);
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open_v2((dir.path / "dotfile.db").c_str(), &db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, shim) == SQLITE_OK);
      CHECK(sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS t(x); INSERT INTO t VALUES(1)", nullptr,
                         nullptr, nullptr) == SQLITE_OK);
      std::string mode;
      CHECK(sqlite3_exec(
                db, "PRAGMA journal_mode=WAL",
                [](void* out, int, char** values, char**) {
                  *static_cast<std::string*>(out) = values[0] != nullptr ? values[0] : "";
                  return 0;
                },
                &mode, nullptr) == SQLITE_OK);
      CHECK(mode != "wal");
      CHECK(sqlite3_close(db) == SQLITE_OK);
    }
    REQUIRE(sqlite3_vfs_register(system, 1) == SQLITE_OK);
  }

  TEST_CASE("a connection through another VFS is not paced") {
    temp_dir dir;
    sqlite3* writer = open_writer(dir.path / "other.db");
    CHECK(store::set_writeback_descriptor(writer, 0) == SQLITE_NOTFOUND);
    CHECK(sqlite3_close(writer) == SQLITE_OK);
  }

  TEST_CASE("a store paces its checkpoints once asked to, and keeps no descriptor once closed") {
    temp_dir dir;
    const auto save_claims = [](store::sqlite_store& s, int first) {
      s.begin();
      for (int i = first; i < first + 400; ++i) {
        s.save(test::stored_claim(("PACED" + std::to_string(i)).c_str()));
      }
      s.commit();
    };
    {
      store::sqlite_store s(dir.path, true);
      const auto file = std::filesystem::canonical(dir.path / "covgate.db");
      const int sqlite_descriptors = test::descriptors_of(file);
      auto pieces = store::pieces_written_back();
      save_claims(s, 0);
      CHECK_FALSE(s.checkpoint());
      CHECK(store::pieces_written_back() == pieces);  // the plugin's, replay's: not paced

      s.pace_checkpoints();  // serve's
      CHECK(test::descriptors_of(file) == sqlite_descriptors + 1);
      pieces = store::pieces_written_back();
      save_claims(s, 400);
      CHECK_FALSE(s.checkpoint());
      CHECK(store::pieces_written_back() > pieces);
    }
    CHECK(test::descriptors_of(std::filesystem::canonical(dir.path / "covgate.db")) == 0);
  }
}
#endif
