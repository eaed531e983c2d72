// A VFS for the store's writing connection that hands a commit's WAL frames to the system in
// one write instead of two per page.
//
// SQLite writes each WAL frame as two pwrite calls (its 24-byte header, then the page): about
// a hundred system calls for a commit of sixteen messages, made while serve's writer holds the
// gate's lock, and on a virtual machine a system call is dear (the WAL's pwrites were 12.7 %
// of serve's samples under MLLP load, measured with perf). This shim keeps a transaction's
// contiguous WAL writes in a buffer and writes them at once when the frame that commits the
// transaction is complete, so the commit's own write call returns the error if the write
// fails, exactly where SQLite expects it; any other use of the file (a read, a sync, its size,
// a truncation, closing it) writes what is kept first. Every other file, and every call but
// those, goes straight to the default VFS of the moment (a test's, when a test installs one).
//
// Why this is safe for the other connections: a reader learns of new frames only from the
// wal-index, which SQLite updates after the last frame's write has returned, and by then the
// frames are in the file.
#pragma once

namespace covgate::store {

/// The name to open a connection with (sqlite3_open_v2's zVfs); registered, not as the
/// default, at the first call.
[[nodiscard]] const char* wal_gathering_vfs();

}  // namespace covgate::store
