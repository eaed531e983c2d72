// The part of a VFS shim that has nothing of its own to do: every VFS-level call but xOpen goes
// to the default VFS of the moment (a test's, when a test installs one). The store's shims
// (wal_gathering_vfs, paced_writeback_vfs) differ only in their files.
#pragma once

#include <sqlite3.h>

#include <cstddef>

namespace covgate::store {

inline sqlite3_vfs* system_vfs() { return sqlite3_vfs_find(nullptr); }

/// Where a shim's file keeps the system's: SQLite hands xOpen a block of szOsFile bytes, the
/// shim's `Header` (starting with its sqlite3_file) and then, aligned, the system's file.
template <class Header>
struct shim_layout {
  static constexpr std::size_t inner_offset = (sizeof(Header) + alignof(std::max_align_t) - 1) /
                                              alignof(std::max_align_t) * alignof(std::max_align_t);
  static constexpr int room_for_inner_file = 1024;  // the unix VFS's ~120 bytes, a test's more
  static constexpr int file_bytes = static_cast<int>(inner_offset) + room_for_inner_file;
  static Header& of(sqlite3_file* f) { return *reinterpret_cast<Header*>(f); }
  static sqlite3_file* inner(sqlite3_file* f) {
    return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + inner_offset);
  }
  static const sqlite3_io_methods& io(sqlite3_file* f) { return *inner(f)->pMethods; }
};

/// A shim registered, not as the default, while this code is loaded: unregistered when it is
/// unloaded (a host closing the plugin's library), so that SQLite's list of VFSes never
/// points into memory that is gone. Keep one in a function's static.
class registered_vfs {
 public:
  explicit registered_vfs(sqlite3_vfs vfs) : vfs_(vfs) { sqlite3_vfs_register(&vfs_, 0); }
  ~registered_vfs() { sqlite3_vfs_unregister(&vfs_); }
  registered_vfs(const registered_vfs&) = delete;
  registered_vfs& operator=(const registered_vfs&) = delete;
  [[nodiscard]] const char* name() const { return vfs_.zName; }

 private:
  sqlite3_vfs vfs_;
};

/// A shim's file methods as version `version`: a shim's file claims no more than the file it
/// wraps (SQLite calls xShmMap from version 2 on and xFetch from 3 on, and a VFS such as
/// unix-dotfile has version 1 files, whose missing methods are null).
constexpr sqlite3_io_methods with_version(sqlite3_io_methods methods, int version) {
  methods.iVersion = version;
  return methods;
}

/// The entry of `by_version` (versions 1, 2, 3) for a wrapped file of `inner_version`.
inline const sqlite3_io_methods* methods_for(const sqlite3_io_methods (&by_version)[3],
                                             int inner_version) {
  return &by_version[inner_version <= 1 ? 0 : inner_version == 2 ? 1 : 2];
}

/// A VFS named `name` whose files take `file_bytes` (the shim's header and the system's file)
/// and are opened by `open`; everything else is the system's.
inline sqlite3_vfs forwarding_vfs(const char* name, int file_bytes,
                                  int (*open)(sqlite3_vfs*, sqlite3_filename, sqlite3_file*, int,
                                              int*)) {
  sqlite3_vfs v{};
  v.iVersion = 2;
  v.szOsFile = file_bytes;
  v.mxPathname = system_vfs()->mxPathname;
  v.zName = name;
  v.xOpen = open;
  v.xDelete = [](sqlite3_vfs*, const char* file, int sync_dir) {
    return system_vfs()->xDelete(system_vfs(), file, sync_dir);
  };
  v.xAccess = [](sqlite3_vfs*, const char* file, int flags, int* out) {
    return system_vfs()->xAccess(system_vfs(), file, flags, out);
  };
  v.xFullPathname = [](sqlite3_vfs*, const char* file, int n, char* out) {
    return system_vfs()->xFullPathname(system_vfs(), file, n, out);
  };
  v.xDlOpen = [](sqlite3_vfs*, const char* file) {
    return system_vfs()->xDlOpen(system_vfs(), file);
  };
  v.xDlError = [](sqlite3_vfs*, int n, char* out) { system_vfs()->xDlError(system_vfs(), n, out); };
  v.xDlSym = [](sqlite3_vfs*, void* h, const char* sym) {
    return system_vfs()->xDlSym(system_vfs(), h, sym);
  };
  v.xDlClose = [](sqlite3_vfs*, void* h) { system_vfs()->xDlClose(system_vfs(), h); };
  v.xRandomness = [](sqlite3_vfs*, int n, char* out) {
    return system_vfs()->xRandomness(system_vfs(), n, out);
  };
  v.xSleep = [](sqlite3_vfs*, int us) { return system_vfs()->xSleep(system_vfs(), us); };
  v.xCurrentTime = [](sqlite3_vfs*, double* out) {
    return system_vfs()->xCurrentTime(system_vfs(), out);
  };
  v.xGetLastError = [](sqlite3_vfs*, int n, char* out) {
    return system_vfs()->xGetLastError(system_vfs(), n, out);
  };
  v.xCurrentTimeInt64 = [](sqlite3_vfs*, sqlite3_int64* out) {
    return system_vfs()->xCurrentTimeInt64(system_vfs(), out);
  };
  return v;
}

}  // namespace covgate::store
