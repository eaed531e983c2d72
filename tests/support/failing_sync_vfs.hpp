// A VFS for tests that hands every call to the system's, counts the database file's writes
// and syncs and the WAL's writes, and fails them on demand: how a test meets a disk that lost
// a write.
#pragma once

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <atomic>
#include <limits>

namespace covgate::test {

// Fails the database file's syncs from the one numbered fail_from_sync on, its writes while
// fail_writes, and the WAL's writes while fail_wal_writes (as a full disk fails them). Made the
// default VFS while it lives, so the connections opened meanwhile (a store's, a plugin handle's)
// open their files through it; the counts are the process's. One at a time: doctest runs one test
// at a time.
class failing_sync_vfs {
 public:
  static inline std::atomic<int> fail_from_sync{std::numeric_limits<int>::max()};
  static inline std::atomic<bool> fail_writes{false};
  static inline std::atomic<bool> fail_wal_writes{false};
  static inline std::atomic<int> database_writes{0};
  static inline std::atomic<int> database_syncs{0};
  static inline std::atomic<int> wal_writes{0};  // write calls that reached the WAL

  failing_sync_vfs() {
    real_ = sqlite3_vfs_find(nullptr);
    vfs_.iVersion = 2;
    vfs_.szOsFile = static_cast<int>(sizeof(file)) + real_->szOsFile;
    vfs_.mxPathname = real_->mxPathname;
    vfs_.zName = "covgate-test-failing-sync";
    vfs_.pAppData = real_;
    vfs_.xOpen = open;
    vfs_.xDelete = [](sqlite3_vfs* v, const char* name, int sync_dir) {
      return real(v)->xDelete(real(v), name, sync_dir);
    };
    vfs_.xAccess = [](sqlite3_vfs* v, const char* name, int flags, int* out) {
      return real(v)->xAccess(real(v), name, flags, out);
    };
    vfs_.xFullPathname = [](sqlite3_vfs* v, const char* name, int n, char* out) {
      return real(v)->xFullPathname(real(v), name, n, out);
    };
    vfs_.xDlOpen = [](sqlite3_vfs* v, const char* name) { return real(v)->xDlOpen(real(v), name); };
    vfs_.xDlError = [](sqlite3_vfs* v, int n, char* out) { real(v)->xDlError(real(v), n, out); };
    vfs_.xDlSym = [](sqlite3_vfs* v, void* h, const char* sym) {
      return real(v)->xDlSym(real(v), h, sym);
    };
    vfs_.xDlClose = [](sqlite3_vfs* v, void* h) { real(v)->xDlClose(real(v), h); };
    vfs_.xRandomness = [](sqlite3_vfs* v, int n, char* out) {
      return real(v)->xRandomness(real(v), n, out);
    };
    vfs_.xSleep = [](sqlite3_vfs* v, int us) { return real(v)->xSleep(real(v), us); };
    vfs_.xCurrentTime = [](sqlite3_vfs* v, double* out) {
      return real(v)->xCurrentTime(real(v), out);
    };
    vfs_.xGetLastError = [](sqlite3_vfs* v, int n, char* out) {
      return real(v)->xGetLastError(real(v), n, out);
    };
    vfs_.xCurrentTimeInt64 = [](sqlite3_vfs* v, sqlite3_int64* out) {
      return real(v)->xCurrentTimeInt64(real(v), out);
    };
    fail_from_sync = std::numeric_limits<int>::max();
    fail_writes = false;
    fail_wal_writes = false;
    database_writes = 0;
    database_syncs = 0;
    wal_writes = 0;
    REQUIRE(sqlite3_vfs_register(&vfs_, 1) == SQLITE_OK);
  }
  ~failing_sync_vfs() {
    sqlite3_vfs_unregister(&vfs_);
    sqlite3_vfs_register(real_, 1);  // the system's is the default again
  }
  failing_sync_vfs(const failing_sync_vfs&) = delete;
  failing_sync_vfs& operator=(const failing_sync_vfs&) = delete;

 private:
  // The system's file object follows this header in the memory SQLite gives xOpen.
  struct file {
    sqlite3_file base;
    bool database;
    bool wal;
    sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
  };
  static sqlite3_vfs* real(sqlite3_vfs* v) { return static_cast<sqlite3_vfs*>(v->pAppData); }
  static file& of(sqlite3_file* f) { return *reinterpret_cast<file*>(f); }
  static sqlite3_file* inner(sqlite3_file* f) { return of(f).real(); }
  static const sqlite3_io_methods* io(sqlite3_file* f) { return inner(f)->pMethods; }

  static int open(sqlite3_vfs* v, sqlite3_filename name, sqlite3_file* f, int flags, int* out) {
    auto& shim = of(f);
    shim.base.pMethods = nullptr;
    shim.database = (flags & SQLITE_OPEN_MAIN_DB) != 0;
    shim.wal = (flags & SQLITE_OPEN_WAL) != 0;
    const int rc = real(v)->xOpen(real(v), name, shim.real(), flags, out);
    if (rc == SQLITE_OK && shim.real()->pMethods != nullptr) shim.base.pMethods = &methods;
    return rc;
  }

  static constexpr sqlite3_io_methods methods = {
      3,
      [](sqlite3_file* f) { return io(f)->xClose(inner(f)); },
      [](sqlite3_file* f, void* out, int n, sqlite3_int64 at) {
        return io(f)->xRead(inner(f), out, n, at);
      },
      [](sqlite3_file* f, const void* in, int n, sqlite3_int64 at) {
        if (of(f).database) {
          ++database_writes;
          if (fail_writes) return SQLITE_IOERR_WRITE;
        }
        if (of(f).wal) {
          ++wal_writes;
          if (fail_wal_writes) return SQLITE_FULL;
        }
        return io(f)->xWrite(inner(f), in, n, at);
      },
      [](sqlite3_file* f, sqlite3_int64 size) { return io(f)->xTruncate(inner(f), size); },
      [](sqlite3_file* f, int flags) {
        if (of(f).database && ++database_syncs >= fail_from_sync) return SQLITE_IOERR_FSYNC;
        return io(f)->xSync(inner(f), flags);
      },
      [](sqlite3_file* f, sqlite3_int64* size) { return io(f)->xFileSize(inner(f), size); },
      [](sqlite3_file* f, int level) { return io(f)->xLock(inner(f), level); },
      [](sqlite3_file* f, int level) { return io(f)->xUnlock(inner(f), level); },
      [](sqlite3_file* f, int* out) { return io(f)->xCheckReservedLock(inner(f), out); },
      [](sqlite3_file* f, int op, void* arg) { return io(f)->xFileControl(inner(f), op, arg); },
      [](sqlite3_file* f) { return io(f)->xSectorSize(inner(f)); },
      [](sqlite3_file* f) { return io(f)->xDeviceCharacteristics(inner(f)); },
      [](sqlite3_file* f, int page, int size, int extend, void volatile** out) {
        return io(f)->xShmMap(inner(f), page, size, extend, out);
      },
      [](sqlite3_file* f, int offset, int n, int flags) {
        return io(f)->xShmLock(inner(f), offset, n, flags);
      },
      [](sqlite3_file* f) { io(f)->xShmBarrier(inner(f)); },
      [](sqlite3_file* f, int remove) { return io(f)->xShmUnmap(inner(f), remove); },
      [](sqlite3_file* f, sqlite3_int64 at, int n, void** out) {
        return io(f)->xFetch(inner(f), at, n, out);
      },
      [](sqlite3_file* f, sqlite3_int64 at, void* p) { return io(f)->xUnfetch(inner(f), at, p); },
  };

  sqlite3_vfs vfs_{};
  sqlite3_vfs* real_ = nullptr;
};

}  // namespace covgate::test
