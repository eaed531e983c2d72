#include "covgate/store/partition_snapshot.hpp"

#include <stdexcept>

namespace covgate::store {

namespace {

constexpr std::string_view magic = "covgate-snapshot\n";
constexpr std::uint64_t version = 1;
constexpr std::size_t max_name = 64;
constexpr std::size_t max_columns = 64;

void put_varint(std::string& out, std::uint64_t n) {
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

void put_bytes(std::string& out, std::string_view bytes) {
  put_varint(out, bytes.size());
  out.append(bytes);
}

std::uint64_t zigzag(std::int64_t n) {
  return (static_cast<std::uint64_t>(n) << 1) ^ static_cast<std::uint64_t>(n >> 63);
}

std::int64_t unzigzag(std::uint64_t n) {
  return static_cast<std::int64_t>((n >> 1) ^ (~(n & 1) + 1));
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > max_name) return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}

// A cursor over the snapshot's bytes; every read checks what is left.
class cursor {
 public:
  explicit cursor(std::string_view bytes) : bytes_(bytes) {}

  bool varint(std::uint64_t& n) {
    n = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ == bytes_.size()) return false;
      const auto b = static_cast<unsigned char>(bytes_[at_++]);
      // The tenth byte may carry one bit only.
      if (shift == 63 && (b & 0x7e) != 0) return false;
      n |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool bytes(std::string_view& out) {
    std::uint64_t n = 0;
    if (!varint(n) || n > bytes_.size() - at_) return false;
    out = bytes_.substr(at_, n);
    at_ += n;
    return true;
  }
  bool byte(char& c) {
    if (at_ == bytes_.size()) return false;
    c = bytes_[at_++];
    return true;
  }
  bool literal(std::string_view text) {
    if (bytes_.substr(at_, text.size()) != text) return false;
    at_ += text.size();
    return true;
  }
  [[nodiscard]] bool done() const noexcept { return at_ == bytes_.size(); }
  [[nodiscard]] std::size_t offset() const noexcept { return at_; }

 private:
  std::string_view bytes_;
  std::size_t at_ = 0;
};

}  // namespace

snapshot_writer::snapshot_writer(std::string& out, const snapshot_header& header) : out_(out) {
  out_.append(magic);
  put_varint(out_, version);
  put_varint(out_, header.partition);
  put_varint(out_, header.stream_seq);
  put_varint(out_, header.epoch);
}

void snapshot_writer::table(std::string_view name, std::span<const std::string_view> columns) {
  if (finished_) throw std::invalid_argument("snapshot: a table after the end");
  if (!valid_name(name)) throw std::invalid_argument("snapshot: table name is not [a-z_]{1,64}");
  if (columns.empty() || columns.size() > max_columns) {
    throw std::invalid_argument("snapshot: a table needs 1 to 64 columns");
  }
  for (const auto column : columns) {  // all checked before a byte is written
    if (!valid_name(column)) {
      throw std::invalid_argument("snapshot: column name is not [a-z_]{1,64}");
    }
  }
  out_.push_back('T');
  put_bytes(out_, name);
  put_varint(out_, columns.size());
  for (const auto column : columns) put_bytes(out_, column);
  columns_ = columns.size();
  ++tables_;
}

void snapshot_writer::row(std::span<const snapshot_cell> cells) {
  if (finished_ || columns_ == 0 || cells.size() != columns_) {
    throw std::invalid_argument("snapshot: a row must follow its table and fill its columns");
  }
  out_.push_back('R');
  for (const auto& cell : cells) {
    if (const auto* n = std::get_if<std::int64_t>(&cell)) {
      out_.push_back('i');
      put_varint(out_, zigzag(*n));
    } else if (const auto* text = std::get_if<std::string_view>(&cell)) {
      out_.push_back('t');
      put_bytes(out_, *text);
    } else {
      out_.push_back('b');
      put_bytes(out_, std::get<snapshot_blob>(cell).bytes);
    }
  }
  ++rows_;
}

void snapshot_writer::finish() {
  if (finished_) return;
  out_.push_back('E');
  put_varint(out_, rows_);
  put_varint(out_, tables_);
  finished_ = true;
}

std::optional<snapshot_header> read_snapshot(std::string_view bytes, snapshot_visitor* visitor,
                                             std::string& error) {
  cursor in(bytes);
  const auto fail = [&](std::string_view what) {
    error = "snapshot: " + std::string(what) + " at byte " + std::to_string(in.offset());
    return std::nullopt;
  };
  if (!in.literal(magic)) return fail("not a covgate snapshot (no magic)");
  std::uint64_t v = 0;
  if (!in.varint(v)) return fail("no version");
  if (v != version) return fail("version " + std::to_string(v) + " is not 1");
  snapshot_header header;
  std::uint64_t partition = 0;
  if (!in.varint(partition) || partition > UINT32_MAX) return fail("bad partition");
  header.partition = static_cast<std::uint32_t>(partition);
  if (!in.varint(header.stream_seq) || !in.varint(header.epoch)) return fail("bad position");

  std::string_view columns_buffer[max_columns];
  snapshot_cell cells[max_columns];
  std::size_t columns = 0;
  std::uint64_t rows = 0, tables = 0;
  for (;;) {
    char tag = 0;
    if (!in.byte(tag)) return fail("cut short (no end record)");
    if (tag == 'T') {
      std::string_view name;
      std::uint64_t count = 0;
      if (!in.bytes(name) || !valid_name(name)) return fail("bad table name");
      if (!in.varint(count) || count == 0 || count > max_columns) return fail("bad column count");
      for (std::size_t i = 0; i < count; ++i) {
        if (!in.bytes(columns_buffer[i]) || !valid_name(columns_buffer[i])) {
          return fail("bad column name");
        }
      }
      columns = static_cast<std::size_t>(count);
      ++tables;
      if (visitor != nullptr) visitor->table(name, {columns_buffer, columns});
    } else if (tag == 'R') {
      if (columns == 0) return fail("a row before any table");
      for (std::size_t i = 0; i < columns; ++i) {
        char type = 0;
        if (!in.byte(type)) return fail("cut short in a row");
        if (type == 'i') {
          std::uint64_t n = 0;
          if (!in.varint(n)) return fail("bad integer");
          cells[i] = unzigzag(n);
        } else if (type == 't' || type == 'b') {
          std::string_view value;
          if (!in.bytes(value)) return fail("a cell longer than the snapshot");
          if (type == 't') {
            cells[i] = value;
          } else {
            cells[i] = snapshot_blob{value};
          }
        } else {
          return fail("unknown cell type");
        }
      }
      ++rows;
      if (visitor != nullptr) visitor->row({cells, columns});
    } else if (tag == 'E') {
      std::uint64_t said_rows = 0, said_tables = 0;
      if (!in.varint(said_rows) || !in.varint(said_tables)) return fail("bad end record");
      if (said_rows != rows || said_tables != tables) {
        return fail("the end record counts " + std::to_string(said_rows) + " rows in " +
                    std::to_string(said_tables) + " tables, the snapshot holds " +
                    std::to_string(rows) + " in " + std::to_string(tables));
      }
      if (!in.done()) return fail("bytes after the end record");
      return header;
    } else {
      return fail("unknown record");
    }
  }
}

}  // namespace covgate::store
