#include "paced_writeback_vfs.hpp"

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>

#include "forwarding_vfs.hpp"

namespace covgate::store {
namespace {

// The file control that hands a file its descriptor (set_writeback_descriptor): a number of
// this shim's own, which every other VFS answers with SQLITE_NOTFOUND.
constexpr int pace_with_descriptor = 0x43470001;
// The file control that reads the errno of the file's last failed writeback (writeback_errno).
constexpr int read_writeback_errno = 0x43470002;

std::atomic<std::uint64_t> pieces{0};
std::atomic<std::uint64_t> piece_bytes{0};

// A file's header (shim_layout puts the system's file after it).
struct paced_file {
  sqlite3_file base;
  bool database;         // the main database file: the only one paced
  int descriptor;        // -1: not paced now
  std::int64_t written;  // bytes written since the last writeback
  std::int64_t from;     // the span of the file those writes touched
  std::int64_t to;
  int failed_errno;  // the last failed writeback's, kept from when it failed; 0: none
};
using layout = shim_layout<paced_file>;
constexpr auto of = layout::of;
constexpr auto inner = layout::inner;
constexpr auto io = layout::io;

// Writes back the span written since the last time and waits for it; a failure's errno is
// kept in the file (read through read_writeback_errno, not errno: SQLite's own calls on the way
// back, its unlocks, may change errno before the store hears of the failure).
int write_back(paced_file& file) {
  if (file.written == 0) return SQLITE_OK;
  const auto from = file.from;
  const auto bytes = file.to - file.from;
  file.written = 0;
#if defined(__linux__)
  if (::sync_file_range(
          file.descriptor, from, bytes,
          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
    file.failed_errno = errno;
    return SQLITE_IOERR_FSYNC;
  }
  pieces.fetch_add(1, std::memory_order_relaxed);
  piece_bytes.fetch_add(static_cast<std::uint64_t>(bytes), std::memory_order_relaxed);
#else
  (void)from;
  (void)bytes;
#endif
  return SQLITE_OK;
}

int paced_write(sqlite3_file* f, const void* data, int n, sqlite3_int64 offset) {
  const int rc = io(f).xWrite(inner(f), data, n, offset);
  auto& file = of(f);
  if (rc != SQLITE_OK || !file.database || file.descriptor < 0) return rc;
  const std::int64_t from = offset;
  const std::int64_t to = offset + n;
  file.from = file.written == 0 ? from : std::min(file.from, from);
  file.to = file.written == 0 ? to : std::max(file.to, to);
  file.written += n;
  return file.written >= writeback_piece_bytes ? write_back(file) : SQLITE_OK;
}

int control(sqlite3_file* f, int op, void* arg) {
  if (op != pace_with_descriptor && op != read_writeback_errno) {
    return io(f).xFileControl(inner(f), op, arg);
  }
  auto& file = of(f);
  if (!file.database) return SQLITE_NOTFOUND;
  if (op == read_writeback_errno) {
    *static_cast<int*>(arg) = file.failed_errno;
    return SQLITE_OK;
  }
  const int rc = file.descriptor >= 0 ? write_back(file) : SQLITE_OK;  // what it wrote so far
  file.descriptor = *static_cast<int*>(arg);  // nothing is pending now: write_back cleared it
  return rc;
}

constexpr sqlite3_io_methods methods_v3 = {
    3,
    [](sqlite3_file* f) { return io(f).xClose(inner(f)); },
    [](sqlite3_file* f, void* out, int n, sqlite3_int64 at) {
      return io(f).xRead(inner(f), out, n, at);
    },
    paced_write,
    [](sqlite3_file* f, sqlite3_int64 size) { return io(f).xTruncate(inner(f), size); },
    [](sqlite3_file* f, int flags) { return io(f).xSync(inner(f), flags); },
    [](sqlite3_file* f, sqlite3_int64* size) { return io(f).xFileSize(inner(f), size); },
    [](sqlite3_file* f, int level) { return io(f).xLock(inner(f), level); },
    [](sqlite3_file* f, int level) { return io(f).xUnlock(inner(f), level); },
    [](sqlite3_file* f, int* out) { return io(f).xCheckReservedLock(inner(f), out); },
    control,
    [](sqlite3_file* f) { return io(f).xSectorSize(inner(f)); },
    [](sqlite3_file* f) { return io(f).xDeviceCharacteristics(inner(f)); },
    [](sqlite3_file* f, int page, int size, int extend, void volatile** out) {
      return io(f).xShmMap(inner(f), page, size, extend, out);
    },
    [](sqlite3_file* f, int offset, int n, int flags) {
      return io(f).xShmLock(inner(f), offset, n, flags);
    },
    [](sqlite3_file* f) { io(f).xShmBarrier(inner(f)); },
    [](sqlite3_file* f, int remove) { return io(f).xShmUnmap(inner(f), remove); },
    [](sqlite3_file* f, sqlite3_int64 at, int n, void** out) {
      return io(f).xFetch(inner(f), at, n, out);
    },
    [](sqlite3_file* f, sqlite3_int64 at, void* p) { return io(f).xUnfetch(inner(f), at, p); },
};
constexpr sqlite3_io_methods methods[3] = {with_version(methods_v3, 1), with_version(methods_v3, 2),
                                           methods_v3};

int open_file(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto& file = of(f);
  file = {};
  file.database = (flags & SQLITE_OPEN_MAIN_DB) != 0 && name != nullptr;
  file.descriptor = -1;
  // The default VFS of the moment opens it; its methods are then the file's own.
  sqlite3_vfs* system = system_vfs();
  if (system->szOsFile > layout::room_for_inner_file) return SQLITE_CANTOPEN;
  const int rc = system->xOpen(system, name, inner(f), flags, out_flags);
  if (inner(f)->pMethods != nullptr) {  // closed through us, even after a failure
    file.base.pMethods = methods_for(methods, inner(f)->pMethods->iVersion);
  }
  return rc;
}

}  // namespace

const char* paced_writeback_vfs() {
  static const registered_vfs registered(
      forwarding_vfs("covgate-paced-writeback", layout::file_bytes, open_file));
  return registered.name();
}

int set_writeback_descriptor(sqlite3* db, int descriptor) {
  return sqlite3_file_control(db, "main", pace_with_descriptor, &descriptor);
}

int writeback_errno(sqlite3* db) {
  int failed_errno = 0;
  return sqlite3_file_control(db, "main", read_writeback_errno, &failed_errno) == SQLITE_OK
             ? failed_errno
             : 0;
}

std::uint64_t pieces_written_back() { return pieces.load(std::memory_order_relaxed); }
std::uint64_t bytes_written_back() { return piece_bytes.load(std::memory_order_relaxed); }

}  // namespace covgate::store
