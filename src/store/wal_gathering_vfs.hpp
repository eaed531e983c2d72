// A VFS for the store's writing connection that hands a commit's WAL frames to the system in
// one write instead of two per page.
//
// SQLite writes each WAL frame as two pwrite calls (its 24-byte header, then the page): about
// a hundred system calls for a commit of sixteen messages, made while serve's writer holds the
// gate's lock, and on a virtual machine a system call is dear (the WAL's pwrites were 12.7 %
// of serve's samples under MLLP load, measured with perf). This shim keeps a run of appended
// WAL writes and writes it in one call (pieces under 128 KiB) when the frame that commits is
// complete, so a commit's own last append returns the failure if the run does not reach the
// file. Anything else is never kept: a write below the furthest one since the WAL's header (a
// page written again over its frame, a header rewritten with its checksum) goes straight
// through, after what is kept. Any other use of the WAL (a read, a sync, its size, a
// truncation, closing it) writes what is kept first; if that fails, SQLite had been told those
// frames were written, so every later call on the WAL fails as a write does until the
// transaction ends (SQLite rolls it back; no commit can follow). The end of the connection's
// write transaction (its write lock given up) drops what is still kept: a commit wrote its
// run, so that is a rolled-back transaction's spilled frames. Every other file and call goes
// to the VFS that was the default when the database file was opened (a test's, when a test
// installs one).
//
// It needs SQLite's normal locking mode (the store never sets locking_mode=EXCLUSIVE): in
// exclusive mode SQLite takes no shared-memory locks, the end of a write transaction is never
// seen here, and a lost run would fail the connection until it closes.
//
// Why other connections never read what is kept: they learn of frames only from the
// wal-index, which SQLite updates after the commit's frames and rewritten headers were
// written, and they read pages only up to the frames it names.
#pragma once

namespace covgate::store {

/// The name to open a connection with (sqlite3_open_v2's zVfs); registered, not as the
/// default, at the first call, and unregistered when this code is unloaded.
[[nodiscard]] const char* wal_gathering_vfs();

}  // namespace covgate::store
