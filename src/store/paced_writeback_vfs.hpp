// A VFS for the store's checkpointing connection that writes the database file's pages back to
// the disk while a checkpoint copies them, a quarter of a megabyte at a time, rather than
// leaving them all dirty for the sync that makes the WAL start over.
//
// Measured under serve's 16-connection MLLP load (docs/performance.md, "The checkpoints'
// writeback paced"): the sync of the database file before each RESTART (every 64 MB of WAL)
// flushed 30-45 ms of pages at once, and every WAL sync that a commit waited for meanwhile
// waited behind them (the WAL's fdatasync up to 27-37 ms; messages' p99.9 30-45 ms). Written
// back as the copy goes, a WAL sync waits behind at most one such piece.
//
// Pacing is asked for per checkpoint: the store hands the shim a descriptor of the database
// file (set_writeback_descriptor) before a PASSIVE copy and takes it back after, so that the
// RESTART, which holds the writer's lock, is not paced; and only where checkpoints run on a
// thread of their own (serve's: sqlite_store::pace_checkpoints), not where a message waits
// for them (the plugin's, replay's). The descriptor is the store's, kept
// open while any of its connections is (closing a descriptor of the file would drop the
// process's locks on it). Pages are written back with sync_file_range, which starts their
// writeback and waits for it but neither syncs the file's metadata nor flushes the disk's
// cache: it makes nothing durable (the checkpoints' own syncs still do), it only spreads the
// writes. A writeback that fails fails the write that asked for it as a failed sync
// (SQLITE_IOERR_FSYNC): a page the disk lost is a lost sync. On a system without
// sync_file_range the shim only forwards.
#pragma once

#include <sqlite3.h>

#include <cstdint>

namespace covgate::store {

/// The name to open a connection with (sqlite3_open_v2's zVfs); registered, not as the
/// default, at the first call, and unregistered when this code is unloaded. A file's calls go
/// to the VFS that was the default when it was opened, the VFS's own calls to the default of
/// the moment.
[[nodiscard]] const char* paced_writeback_vfs();

/// Pages are written back every this many bytes the copy writes (256 KB and 1 MB pieces gave
/// the same tail latencies when the whole file was written back so after each copy).
inline constexpr std::int64_t writeback_piece_bytes = 256 << 10;

/// Paces the database file of `db` (opened through paced_writeback_vfs) with `descriptor`, an
/// open descriptor of the same file, or stops pacing (-1). What was written since the last
/// piece is written back first. SQLITE_OK; SQLITE_NOTFOUND when `db`'s database file is not
/// this shim's; SQLITE_IOERR_FSYNC when that writeback failed (writeback_errno says why).
int set_writeback_descriptor(sqlite3* db, int descriptor);

/// The errno of the last writeback that failed on `db`'s database file (a copy's, or
/// set_writeback_descriptor's), kept by the shim when it failed; 0 when none has, or when the
/// file is not this shim's. A failed writeback is not tried again (the store stops
/// checkpointing), so the first failure is the one kept until a later one.
[[nodiscard]] int writeback_errno(sqlite3* db);

/// Pieces written back since the process started, and the bytes of the spans they covered
/// (for tests and benchmarks).
[[nodiscard]] std::uint64_t pieces_written_back();
[[nodiscard]] std::uint64_t bytes_written_back();

}  // namespace covgate::store
