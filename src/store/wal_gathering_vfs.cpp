#include "wal_gathering_vfs.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

#include "forwarding_vfs.hpp"

namespace covgate::store {
namespace {

// The WAL's format (sqlite.org/fileformat.html, "The WAL file format"): a 32-byte header whose
// bytes 8-11 are the page size, then frames of a 24-byte header and a page; a frame whose
// header's bytes 4-7 (the database's size in pages after the commit) are not zero commits.
constexpr std::int64_t wal_header_bytes = 32;
constexpr std::int64_t frame_header_bytes = 24;
// A transaction larger than this (a bulk load spilling its cache) is written in parts.
constexpr std::size_t most_kept_bytes = 4u << 20;
// The unix VFS writes at most 128 KiB - 1 bytes a call (its seekAndWriteFd masks the length
// with 0x1ffff) and takes a shorter write for a full disk: larger runs go in pieces.
constexpr std::size_t largest_write = 0x1ffff;
// Kept between commits: a commit of sixteen claims is about 200 KB.
constexpr std::size_t kept_capacity = 1u << 20;

std::uint32_t big_endian_32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

// The page size of a WAL header, or 0 when `header` is not one.
std::uint32_t page_size_of(const char* header) {
  const auto magic = big_endian_32(header);
  const auto size = big_endian_32(header + 8);
  const bool valid = (magic == 0x377f0682 || magic == 0x377f0683) && size >= 512 && size <= 65536 &&
                     (size & (size - 1)) == 0;
  return valid ? size : 0;
}

// What the shim keeps of one WAL: the bytes of a run of appended writes not yet written.
struct kept_writes {
  std::vector<char> bytes;
  std::int64_t at = 0;           // file offset of bytes[0]
  std::uint32_t page_size = 0;   // 0: not known yet, nothing is kept
  std::int64_t next_frame = 0;   // the next frame header not yet looked at
  std::int64_t commit_end = -1;  // where a committing frame seen ends
  // The end of the furthest write since the WAL's header: a write below it (a page written
  // again over its frame, a frame header rewritten with its checksum) is never kept, so the
  // last write of a commit is never one that waits.
  std::int64_t high_water = 0;
  // A kept run that failed to reach the file after SQLite was told its writes succeeded (a
  // spill's frames, written out by a later read): from here on the WAL holds a hole, and
  // every call fails as a write does (so SQLite rolls the whole transaction back) until
  // SQLite writes again at or below it.
  std::int64_t lost_from = -1;
  [[nodiscard]] std::int64_t end() const { return at + static_cast<std::int64_t>(bytes.size()); }
  [[nodiscard]] bool frame_starts_at(std::int64_t offset) const {
    return offset >= wal_header_bytes &&
           (offset - wal_header_bytes) % (frame_header_bytes + page_size) == 0;
  }
};

// A file's header (shim_layout puts the inner VFS's file after it).
struct shim_file {
  sqlite3_file base;
  kept_writes* wal;     // null for every file but a WAL
  shim_file* partner;   // a database file's WAL and the WAL's database file, one connection's
  sqlite3_vfs* system;  // the VFS the file was opened with (its WAL is opened with the same)
};

// The main database files open through this VFS, by the name pointer SQLite gave xOpen: a WAL's
// name leads back to it (sqlite3_filename_database), so that the connection's end of a write
// transaction, seen on the database file's shared-memory lock, reaches the WAL.
std::mutex open_databases_mutex;
std::vector<std::pair<const char*, shim_file*>> open_databases;
using layout = shim_layout<shim_file>;
constexpr auto of = layout::of;
constexpr auto inner = layout::inner;
constexpr auto io = layout::io;

void drop_kept(kept_writes& w) {
  w.bytes.clear();  // keeps its capacity: no allocation per commit
  if (w.bytes.capacity() > kept_capacity) std::vector<char>().swap(w.bytes);  // a bulk load's
  w.commit_end = -1;
}

int write_kept(sqlite3_file* f) {  // the run is forgotten, written or not
  auto& w = *of(f).wal;
  int rc = SQLITE_OK;
  for (std::size_t done = 0; done < w.bytes.size() && rc == SQLITE_OK; done += largest_write) {
    const auto n = std::min(largest_write, w.bytes.size() - done);
    rc = io(f).xWrite(inner(f), w.bytes.data() + done, static_cast<int>(n),
                      w.at + static_cast<std::int64_t>(done));
  }
  drop_kept(w);
  return rc;
}

// The page size the WAL's header on disk gives, read once when a write comes before SQLite
// wrote a header through this file (a WAL that survived a restart).
std::uint32_t page_size_on_disk(sqlite3_file* f) {
  char header[wal_header_bytes];
  if (io(f).xRead(inner(f), header, sizeof header, 0) != SQLITE_OK) return 0;
  return page_size_of(header);
}

int gathering_write(sqlite3_file* f, const void* data, int n, sqlite3_int64 offset) {
  auto& w = *of(f).wal;
  if (w.lost_from >= 0) {
    // Nothing is written until the write transaction that lost frames ends (on_shm_lock):
    // SQLite may keep it open (a check that reports a failed read as a result row), and a page
    // written again below the hole is no sign that SQLite knows of it. A WAL whose database
    // file is not known here: until SQLite writes at or below the hole again.
    if (of(f).partner != nullptr || (offset != 0 && offset > w.lost_from)) {
      return SQLITE_IOERR_WRITE;
    }
    w.lost_from = -1;
  }
  if (offset == 0) w.high_water = 0;  // the WAL starts over
  const bool written_before = offset < w.high_water;
  w.high_water = std::max<std::int64_t>(w.high_water, offset + n);
  if (written_before) {
    if (const int rc = write_kept(f); rc != SQLITE_OK) return rc;
    return io(f).xWrite(inner(f), data, n, offset);
  }
  if (!w.bytes.empty() && offset != w.end()) {
    if (const int rc = write_kept(f); rc != SQLITE_OK) return rc;
  }
  const auto* bytes = static_cast<const char*>(data);
  if (w.bytes.empty()) {
    if (offset == 0 && n >= wal_header_bytes) {
      w.page_size = page_size_of(bytes);  // the WAL starts over
    } else if (w.page_size == 0 && offset > 0) {
      w.page_size = page_size_on_disk(f);
    }
    // Kept only from a frame's start, so that every frame kept has its header in view.
    if (w.page_size == 0 || (offset != 0 && !w.frame_starts_at(offset))) {
      return io(f).xWrite(inner(f), data, n, offset);
    }
    w.at = offset;
    w.next_frame = offset == 0 ? wal_header_bytes : offset;
  }
  try {
    w.bytes.insert(w.bytes.end(), bytes, bytes + n);
  } catch (const std::bad_alloc&) {
    if (const int rc = write_kept(f); rc != SQLITE_OK) return rc;
    return io(f).xWrite(inner(f), data, n, offset);
  }
  for (; w.next_frame + 8 <= w.end(); w.next_frame += frame_header_bytes + w.page_size) {
    if (big_endian_32(w.bytes.data() + (w.next_frame - w.at) + 4) != 0) {
      w.commit_end = w.next_frame + frame_header_bytes + w.page_size;
    }
  }
  if ((w.commit_end >= 0 && w.end() >= w.commit_end) || w.bytes.size() >= most_kept_bytes) {
    return write_kept(f);  // the commit's write call says whether it reached the file
  }
  return SQLITE_OK;
}

// Writes what a WAL keeps on behalf of a call that is no write: a failure leaves a hole where
// SQLite believes frames are, which the WAL then reports as a failed write (see lost_from).
int write_kept_late(shim_file& wal) {
  auto& w = *wal.wal;
  if (w.lost_from >= 0) return SQLITE_IOERR_WRITE;
  const auto at = w.at;
  const bool any = !w.bytes.empty();
  if (write_kept(&wal.base) != SQLITE_OK) {
    if (any) w.lost_from = at;
    return SQLITE_IOERR_WRITE;
  }
  return SQLITE_OK;
}

// A call on a WAL that needs the file as SQLite wrote it: what is kept is written first.
template <typename Call>
int after_writing_kept(sqlite3_file* f, Call call) {
  if (of(f).wal != nullptr) {
    if (const int rc = write_kept_late(of(f)); rc != SQLITE_OK) return rc;
  }
  return call();
}

// The WAL's write lock (shared-memory lock 0 of the database file) given up: the connection's
// write transaction ended. A commit wrote what it kept at its committing frame, so what is
// still kept is a rolled-back transaction's spilled frames: dropped (written later, they would
// land on frames another connection commits next), and the hole such frames left with them.
constexpr int wal_write_lock = 0;
void on_shm_lock(shim_file& database, int offset, int flags) {
  if (offset == wal_write_lock && flags == (SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE) &&
      database.partner != nullptr && database.partner->wal != nullptr) {
    auto& w = *database.partner->wal;
    drop_kept(w);
    w.lost_from = -1;
  }
}

void forget(shim_file& file) {
  const std::lock_guard lock(open_databases_mutex);
  if (file.partner != nullptr) file.partner->partner = nullptr;
  file.partner = nullptr;
  std::erase_if(open_databases, [&](const auto& entry) { return entry.second == &file; });
}

constexpr sqlite3_io_methods methods_v3 = {
    3,
    [](sqlite3_file* f) {
      int rc = SQLITE_OK;
      if (of(f).wal != nullptr) {
        rc = write_kept_late(of(f));
        delete of(f).wal;
        of(f).wal = nullptr;
      }
      forget(of(f));
      const int closed = io(f).xClose(inner(f));
      return rc != SQLITE_OK ? rc : closed;
    },
    [](sqlite3_file* f, void* out, int n, sqlite3_int64 at) {
      return after_writing_kept(f, [&] { return io(f).xRead(inner(f), out, n, at); });
    },
    [](sqlite3_file* f, const void* in, int n, sqlite3_int64 at) {
      if (of(f).wal == nullptr) return io(f).xWrite(inner(f), in, n, at);
      return gathering_write(f, in, n, at);
    },
    [](sqlite3_file* f, sqlite3_int64 size) {
      return after_writing_kept(f, [&] { return io(f).xTruncate(inner(f), size); });
    },
    [](sqlite3_file* f, int flags) {
      return after_writing_kept(f, [&] { return io(f).xSync(inner(f), flags); });
    },
    [](sqlite3_file* f, sqlite3_int64* size) {
      return after_writing_kept(f, [&] { return io(f).xFileSize(inner(f), size); });
    },
    [](sqlite3_file* f, int level) { return io(f).xLock(inner(f), level); },
    [](sqlite3_file* f, int level) { return io(f).xUnlock(inner(f), level); },
    [](sqlite3_file* f, int* out) { return io(f).xCheckReservedLock(inner(f), out); },
    [](sqlite3_file* f, int op, void* arg) {
      return after_writing_kept(f, [&] { return io(f).xFileControl(inner(f), op, arg); });
    },
    [](sqlite3_file* f) { return io(f).xSectorSize(inner(f)); },
    [](sqlite3_file* f) { return io(f).xDeviceCharacteristics(inner(f)); },
    [](sqlite3_file* f, int page, int size, int extend, void volatile** out) {
      return io(f).xShmMap(inner(f), page, size, extend, out);
    },
    [](sqlite3_file* f, int offset, int n, int flags) {
      on_shm_lock(of(f), offset, flags);
      return io(f).xShmLock(inner(f), offset, n, flags);
    },
    [](sqlite3_file* f) { io(f).xShmBarrier(inner(f)); },
    [](sqlite3_file* f, int remove) { return io(f).xShmUnmap(inner(f), remove); },
    [](sqlite3_file* f, sqlite3_int64 at, int n, void** out) {
      return after_writing_kept(f, [&] { return io(f).xFetch(inner(f), at, n, out); });
    },
    [](sqlite3_file* f, sqlite3_int64 at, void* p) { return io(f).xUnfetch(inner(f), at, p); },
};
constexpr sqlite3_io_methods methods[3] = {with_version(methods_v3, 1), with_version(methods_v3, 2),
                                           methods_v3};

int open_file(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto& shim = of(f);
  shim.base.pMethods = nullptr;
  shim.wal = nullptr;
  shim.partner = nullptr;
  shim.system = system_vfs();
  const bool database = (flags & SQLITE_OPEN_MAIN_DB) != 0 && name != nullptr;
  const bool wal = (flags & SQLITE_OPEN_WAL) != 0;
  shim_file* its_database = nullptr;
  if (wal && name != nullptr) {
    const std::lock_guard lock(open_databases_mutex);
    for (const auto& [opened_as, file] : open_databases) {
      if (opened_as == sqlite3_filename_database(name)) its_database = file;
    }
    // The same VFS as its database's, whatever the default is now.
    if (its_database != nullptr) shim.system = its_database->system;
  }
  if (shim.system->szOsFile > layout::room_for_inner_file) return SQLITE_CANTOPEN;
  if (wal) {
    shim.wal = new (std::nothrow) kept_writes;
    if (shim.wal == nullptr) return SQLITE_NOMEM;
  }
  const int rc = shim.system->xOpen(shim.system, name, inner(f), flags, out_flags);
  if (inner(f)->pMethods == nullptr) {
    delete shim.wal;
    shim.wal = nullptr;
    return rc;
  }
  // SQLite closes it through us, even after a failure.
  shim.base.pMethods = methods_for(methods, inner(f)->pMethods->iVersion);
  const std::lock_guard lock(open_databases_mutex);
  if (database) open_databases.emplace_back(name, &shim);
  if (its_database != nullptr) {
    shim.partner = its_database;
    its_database->partner = &shim;
  }
  return rc;
}

}  // namespace

const char* wal_gathering_vfs() {
  static const registered_vfs registered(
      forwarding_vfs("covgate-wal-gathering", layout::file_bytes, open_file));
  return registered.name();
}

}  // namespace covgate::store
