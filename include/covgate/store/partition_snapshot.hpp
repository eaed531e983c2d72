// The byte form of one partition's rows of a cluster worker's store (docs/cluster.md §5j): what
// a worker that takes a partition over loads instead of replaying the partition from the start
// of the inbound stream. Pure: the store writes and reads it (sqlite_store::write_snapshot and
// load_snapshot); this file only knows the layout.
//
//   "covgate-snapshot\n" version (1)
//   partition, stream sequence, epoch                       the position the rows are at
//   'T' table name, column count, column names               then its rows:
//   'R' one cell per column: 'i' integer | 't' text | 'b' blob
//   'E' rows in all, tables in all                           and nothing after it
//
// Numbers are LEB128 varints (integers zigzag-encoded); names and cells are a length and the
// bytes. Names are [a-z_]{1,64}; at most 64 columns.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace covgate::store {

/// Where a snapshot's rows stand in the partition's stream.
struct snapshot_header {
  std::uint32_t partition = 0;
  std::uint64_t stream_seq = 0;  ///< the last message of the partition the rows include
  std::uint64_t epoch = 0;       ///< the lease epoch that message was applied under
  friend bool operator==(const snapshot_header&, const snapshot_header&) = default;
};

/// A blob cell (a text cell is a plain string_view).
struct snapshot_blob {
  std::string_view bytes;
  friend bool operator==(const snapshot_blob&, const snapshot_blob&) = default;
};

/// One cell: the SQLite storage classes the store's tables use (none holds NULL).
using snapshot_cell = std::variant<std::int64_t, std::string_view, snapshot_blob>;

/// Appends a snapshot to a string, table by table.
class snapshot_writer {
 public:
  snapshot_writer(std::string& out, const snapshot_header& header);
  /// Starts a table; its rows follow. Throws std::invalid_argument for a name that is not
  /// [a-z_]{1,64}, or no columns, or more than 64.
  void table(std::string_view name, std::span<const std::string_view> columns);
  /// One row of the current table: exactly as many cells as it has columns (else throws
  /// std::invalid_argument).
  void row(std::span<const snapshot_cell> cells);
  /// Ends the snapshot (nothing may be written after it).
  void finish();
  [[nodiscard]] std::uint64_t rows() const noexcept { return rows_; }

 private:
  std::string& out_;
  std::size_t columns_ = 0;
  std::uint64_t rows_ = 0;
  std::uint64_t tables_ = 0;
  bool finished_ = false;
};

/// What read_snapshot() hands over, in the order the snapshot holds it. The views point into
/// the snapshot's bytes and the cells' span into the reader's buffer: valid during the call.
class snapshot_visitor {
 public:
  virtual ~snapshot_visitor() = default;
  virtual void table(std::string_view name, std::span<const std::string_view> columns) = 0;
  virtual void row(std::span<const snapshot_cell> cells) = 0;
};

/// Reads a snapshot strictly: the magic and version, every length within the bytes, names as
/// the writer writes them, a table before any row, a row of its table's width, the end record
/// matching what was read, nothing after it. Calls `visitor` as it goes (pass nullptr to only
/// check), so run it once without a visitor before acting on a snapshot's rows. Returns the
/// header, or nullopt with `error` saying what is wrong and where (a byte offset); never
/// throws on malformed input (a visitor's exceptions pass through).
[[nodiscard]] std::optional<snapshot_header> read_snapshot(std::string_view bytes,
                                                           snapshot_visitor* visitor,
                                                           std::string& error);

}  // namespace covgate::store
