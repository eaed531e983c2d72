// The store's WAL upkeep: checkpoints that start the WAL over, the database file's sync they
// depend on, and how long a writer waits for a lock another connection holds.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <thread>

#include "covgate/store/sqlite_store.hpp"
#include "support/failing_sync_vfs.hpp"
#include "support/gate_fixtures.hpp"
#include "support/open_files.hpp"
#include "support/temp_dir.hpp"

using namespace covgate;

namespace {

using covgate::test::failing_sync_vfs;
using covgate::test::temp_dir;
using clock_type = std::chrono::steady_clock;

void save(store::sqlite_store& s, const char* id) {
  s.begin();
  s.save(test::stored_claim(id));
  s.commit();
}

// The WAL header's checkpoint sequence (bytes 12-15, big-endian): one more each time the WAL
// starts over. Read through a stream of its own: SQLite keeps no lock on the WAL file (its
// locks are on the database and -shm files), so closing this descriptor drops none.
std::uint32_t wal_restarts(const std::filesystem::path& dir) {
  std::ifstream wal(dir / "covgate.db-wal", std::ios::binary);
  unsigned char header[16] = {};
  wal.read(reinterpret_cast<char*>(header), sizeof header);
  REQUIRE(wal.gcount() == sizeof header);
  return (std::uint32_t{header[12]} << 24) | (std::uint32_t{header[13]} << 16) |
         (std::uint32_t{header[14]} << 8) | header[15];
}

// Frames in a WAL that has not started over yet: its 32-byte header, then frames of a 24-byte
// header and a page (4 KB, SQLite's default).
int wal_frames(const std::filesystem::path& dir) {
  const auto bytes = std::filesystem::file_size(dir / "covgate.db-wal");
  return static_cast<int>((bytes - 32) / (24 + 4096));
}

}  // namespace

TEST_SUITE("sqlite_store checkpoints") {
  TEST_CASE("from the limit's frames on, the database file is synced again before a RESTART") {
    temp_dir dir;
    failing_sync_vfs vfs;
    store::sqlite_store s(dir.path, true);
    save(s, "A");
    const int frames = wal_frames(dir.path);  // the WAL has not started over yet
    REQUIRE(frames > 1);
    // Quiet, the PASSIVE copy reaches the WAL's end and syncs the file itself (under load it
    // never does): one sync below the limit, the second one at it.
    int syncs = failing_sync_vfs::database_syncs;
    CHECK_FALSE(s.checkpoint(frames + 1));
    CHECK(failing_sync_vfs::database_syncs == syncs + 1);

    const auto restarts = wal_restarts(dir.path);
    save(s, "B");  // everything was copied: this transaction starts the WAL over
    CHECK(wal_restarts(dir.path) == restarts + 1);
    save(s, "C");
    syncs = failing_sync_vfs::database_syncs;
    CHECK_FALSE(
        s.checkpoint(wal_frames(dir.path) + 1));  // the file's frames outlive the restart: more
    CHECK(failing_sync_vfs::database_syncs == syncs + 1);
    save(s, "D");
    syncs = failing_sync_vfs::database_syncs;
    CHECK_FALSE(
        s.checkpoint(2));  // D's frames only (C's checkpoint copied all: D started the WAL over)
    CHECK(failing_sync_vfs::database_syncs == syncs + 2);
    CHECK(s.load("A"));
    CHECK(s.load("D"));
  }

  TEST_CASE("a database file that cannot be synced stops checkpoints for good; no commit is lost") {
    temp_dir dir;
    {
      failing_sync_vfs vfs;
      std::optional<store::sqlite_store> s;
      s.emplace(dir.path, true);
      save(*s, "A");
      // A quiet store's checkpoint syncs the database file twice: the PASSIVE copy that reached
      // the WAL's end, then before the RESTART (under load, the PASSIVE does not).
      const int before = failing_sync_vfs::database_syncs;
      CHECK_NOTHROW(s->checkpoint(1));
      CHECK(failing_sync_vfs::database_syncs == before + 2);

      save(*s, "B");
      int failing = 0;
      SUBCASE("SQLite's own sync fails") { failing = 1; }
      SUBCASE("the sync before the RESTART fails") { failing = 2; }
      failing_sync_vfs::fail_from_sync = failing_sync_vfs::database_syncs + failing;
      try {
        (void)s->checkpoint(1);
        FAIL("a failed sync of the database file was not reported");
      } catch (const store::store_error& e) {
        CHECK(std::string(e.what()).find("no checkpoint runs again") != std::string::npos);
      }
      CHECK(failing_sync_vfs::database_syncs == failing_sync_vfs::fail_from_sync);
      // Nothing may copy or sync again: Linux would report the lost writeback only once.
      failing_sync_vfs::fail_from_sync = std::numeric_limits<int>::max();
      const int writes = failing_sync_vfs::database_writes;
      const int syncs = failing_sync_vfs::database_syncs;
      save(*s, "C");
      CHECK_NOTHROW(s->checkpoint(1));
      CHECK(failing_sync_vfs::database_writes == writes);
      CHECK(failing_sync_vfs::database_syncs == syncs);
      s.reset();  // closing: SQLite's checkpoint on close must not run either
      CHECK(failing_sync_vfs::database_writes == writes);
      CHECK(failing_sync_vfs::database_syncs == syncs);
    }
    CHECK(std::filesystem::file_size(dir.path / "covgate.db-wal") > 0);  // kept, with C
    store::sqlite_store reopened(dir.path, true);
    CHECK(reopened.load("A"));
    CHECK(reopened.load("B"));
    CHECK(reopened.load("C"));
  }

  TEST_CASE("a checkpoint that could not write (a full disk) is tried again, not stopped") {
    temp_dir dir;
    failing_sync_vfs vfs;
    store::sqlite_store s(dir.path, true);
    save(s, "A");
    failing_sync_vfs::fail_writes = true;
    const int writes = failing_sync_vfs::database_writes;
    const auto due = s.checkpoint(1);
    REQUIRE(due);
    CHECK(due->find("a checkpoint failed and is due again: disk I/O error") == 0);
    CHECK(failing_sync_vfs::database_writes > writes);  // tried, and failed
    const auto restarts = wal_restarts(dir.path);
    save(s, "B");
    CHECK(wal_restarts(dir.path) == restarts);  // nothing was marked copied

    failing_sync_vfs::fail_writes = false;
    const int syncs = failing_sync_vfs::database_syncs;
    CHECK_FALSE(s.checkpoint(1));
    CHECK(failing_sync_vfs::database_syncs == syncs + 2);
    save(s, "C");
    CHECK(wal_restarts(dir.path) == restarts + 1);
    CHECK(s.load("A"));
    CHECK(s.load("C"));
  }

  TEST_CASE(
      "sync() keeps one descriptor of the WAL from its first call; a WAL removed is an error") {
    // Kept, not opened per call: Linux tells each open file of a failed writeback once, and a
    // descriptor opened after another one (the checkpointer's) was told would never hear of it.
    temp_dir dir;
    store::sqlite_store s(dir.path, true);
    save(s, "A");
    const auto wal = std::filesystem::canonical(dir.path / "covgate.db-wal");
    const int before = test::descriptors_of(wal);  // SQLite's own
    s.defer_sync();  // opened here, before any other thread could sync the WAL
    s.sync();
    save(s, "B");
    s.sync();
    CHECK(test::descriptors_of(wal) == before + 1);

    std::filesystem::remove(wal);
    try {
      s.sync();
      FAIL("the sync of a removed WAL did not fail");
    } catch (const store::store_error& e) {
      CHECK(std::string(e.what()) == "cannot sync covgate.db-wal: the file was removed");
    }
  }

  TEST_CASE("a writer that finds the write lock taken begins as soon as it is given up") {
    // SQLite's own busy handler tries at 1, 3, 8, 18 and 33 ms: a lock given up after 19 ms
    // would be taken 14 ms late. The least of three lags keeps a slow machine's scheduling out.
    temp_dir dir;
    store::sqlite_store s(dir.path, true);
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open((dir.path / "covgate.db").c_str(), &other) == SQLITE_OK);
    auto least_lag = clock_type::duration::max();
    for (int round = 0; round < 3; ++round) {
      REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
      std::atomic<clock_type::rep> released{0};
      std::thread holder([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(19));
        sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
        released = clock_type::now().time_since_epoch().count();
      });
      s.begin();
      const auto began = clock_type::now();
      holder.join();
      s.rollback();
      least_lag =
          std::min(least_lag, began - clock_type::time_point(clock_type::duration(released)));
    }
    sqlite3_close(other);
    CHECK(least_lag < std::chrono::milliseconds(5));
  }
}
