// Input files for check, parse and replay: folders expanded in name order, "-" for standard
// input, and each file opened for streaming, or skipped with a reason said on stderr (it does
// not exist, it is a FIFO, device or socket, a dangling symbolic link, or empty).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace covgate::app {

/// One input file, or why a PATH given (or found in a folder) cannot be read as one.
struct input_file {
  std::filesystem::path path;
  std::string problem;          ///< "" when it can be read
  bool standard_input = false;  ///< the PATH "-": read from stdin, named "stdin"
  /// How findings and sources name it: its path, or "stdin".
  [[nodiscard]] std::string name() const { return standard_input ? "stdin" : path.string(); }
};

/// The files of `paths`, folders read recursively in name order. A PATH that cannot be read
/// is kept with its problem, so the rest is still processed and the run says what it skipped.
[[nodiscard]] std::vector<input_file> expand(const std::vector<std::filesystem::path>& paths);

/// A file being read in chunks.
class file_reader {
 public:
  static constexpr std::size_t chunk = 1u << 20;

  file_reader();
  file_reader(const file_reader&) = delete;
  file_reader& operator=(const file_reader&) = delete;
  ~file_reader();  // stops and joins a thread reading ahead

  /// Opens `file`; false (said on stderr) when it is to be skipped.
  bool open(const input_file& file);
  /// Reads the rest of an opened file on a thread of its own, up to `chunks` chunks ahead of
  /// next(std::string&), which from then on swaps a chunk read into the buffer it is given
  /// (and keeps that buffer to read into). For a caller whose own thread is the one to spare:
  /// a replay's gate thread spent a tenth of its time in the read calls' copies (perf). At
  /// most `chunks` + 2 chunks are held. Standard input is not read ahead (a live feed's
  /// bytes go on as they come): the call does nothing there. Only next(std::string&) may
  /// follow it.
  void read_ahead(std::size_t chunks);
  /// Bytes handed out by next() so far.
  [[nodiscard]] std::uint64_t consumed() const noexcept { return consumed_; }
  /// The next chunk; empty at the end.
  [[nodiscard]] std::string_view next();
  /// The next chunk read into `into` (its size set to the bytes read), for a caller that
  /// gives the buffer away (engine::intake::input::put_buffer); false at the end. Either
  /// next() may follow the other.
  [[nodiscard]] bool next(std::string& into);
  /// Why reading stopped before the end ("read failed: …"), or "" when it reached the end: a
  /// caller says it and counts the input as refused, as a truncated input must not pass for a
  /// whole one.
  [[nodiscard]] const std::string& failure() const noexcept { return failure_; }
  /// The file's size in bytes as the file system says (0 when unknown, as for stdin).
  [[nodiscard]] std::uintmax_t size() const noexcept { return size_; }

 private:
  // Reads up to `room` bytes to `to`; the bytes read, 0 at the end.
  std::size_t fill(char* to, std::size_t room);
  // Reads a chunk into `into` (its size set to the bytes read); the bytes read.
  std::size_t fill_chunk(std::string& into);

  std::ifstream file_;
  bool standard_input_ = false;
  bool at_end_ = false;
  std::string failure_;
  std::vector<char> buffer_ = std::vector<char>(chunk);
  std::uint64_t consumed_ = 0;
  std::string_view first_;  // the chunk read by open(), handed out by the first next()
  std::uintmax_t size_ = 0;
  // The thread reading ahead and the chunks it read (null: reading here).
  struct ahead;
  std::unique_ptr<ahead> ahead_;
  [[nodiscard]] bool next_read_ahead(std::string& into);
};

}  // namespace covgate::app
