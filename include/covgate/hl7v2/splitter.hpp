// Splits a stream of HL7 v2 messages (a file, a batch, a pipe) into whole messages, push-style:
// put() takes bytes in chunks of any size (a message or a segment may straddle chunks) and
// hands each message over once the next one (or a batch segment, or finish()) shows where it
// ends. Memory stays bounded by one message (splitter_limits) whatever the stream's size.
// Batches (FHS/BHS … BTS/FTS) are followed and their counts checked; text between messages is
// skipped and noted. Pure; not thread-safe; one per stream.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "covgate/hl7v2/error.hpp"

namespace covgate::hl7v2 {

struct splitter_limits {
  /// A message longer than this is handed over cut at this size, flagged `oversize` (its MSH
  /// is still there for the refusal). Worst-case memory: this plus one batch segment.
  std::size_t max_message_bytes = 16u << 20;
  /// A batch header or trailer segment is read up to this size (the rest is skipped).
  std::size_t max_batch_segment_bytes = 64u << 10;
};

/// Where a message sits in the stream.
struct message_info {
  std::uint64_t offset = 0;  ///< byte offset of its "MSH" in the stream
  std::uint64_t line = 0;    ///< 1-based line of its MSH (CR, LF and CRLF end a line)
  std::uint64_t index = 0;   ///< 1-based ordinal of the message in the stream
  std::uint32_t batch = 0;   ///< 1-based ordinal of its batch (BHS), 0 outside any batch
  bool oversize = false;     ///< cut at splitter_limits::max_message_bytes
};

/// Something about the stream itself (never about a message's content).
struct stream_notice {
  error code = error::text_between_messages;  ///< a splitter error (see error.hpp)
  std::uint64_t line = 0;                     ///< 1-based line it was found on
  std::uint64_t offset = 0;                   ///< byte offset of that line
  std::uint64_t declared = 0;                 ///< BTS-1/FTS-1 as sent (count mismatches only)
  std::uint64_t counted = 0;  ///< messages or batches counted (count mismatches only)
};

class message_splitter {
 public:
  /// Receives each message: its bytes (segments with their terminators as sent; the view lives
  /// until the handler returns) and where it was.
  using message_handler = std::function<void(std::string_view message, const message_info&)>;
  using notice_handler = std::function<void(const stream_notice&)>;

  explicit message_splitter(message_handler on_message, notice_handler on_notice = {},
                            splitter_limits limits = {});

  /// Consumes `bytes` (any size, including 0). Never throws on input.
  void put(std::string_view bytes);
  /// Ends the stream: hands over the last message and notes unclosed batches. Further put()
  /// calls start a new stream.
  void finish();

  [[nodiscard]] std::uint64_t messages() const noexcept { return messages_; }
  [[nodiscard]] std::uint64_t batches() const noexcept { return batches_total_; }
  [[nodiscard]] std::uint64_t bytes() const noexcept { return offset_; }

 private:
  enum class line_state : std::uint8_t { head, message, batch, skip };
  enum class mode : std::uint8_t { unknown, cr, lf };

  void classify();
  void end_line(char terminator);
  void emit();
  void append_message(std::string_view bytes);
  void batch_segment();
  void note(error code, std::uint64_t declared = 0, std::uint64_t counted = 0);
  [[nodiscard]] bool ends_line(char c) const noexcept;

  message_handler on_message_;
  notice_handler on_notice_;
  splitter_limits limits_;

  std::string message_;  // the current message (bounded by max_message_bytes)
  std::string head_;     // the head of the current line, or a whole batch segment
  message_info info_;
  bool in_message_ = false;
  mode mode_ = mode::unknown;
  line_state state_ = line_state::head;
  bool head_blank_ = true;         // the current line holds only blanks so far
  bool after_cr_ = false;          // the previous byte was a CR
  bool stray_noted_ = false;       // text between messages noted since the last header
  bool stream_start_ = true;       // a BOM may come first
  std::size_t bom_matched_ = 0;    // bytes of a BOM seen at the stream's start
  std::uint64_t head_offset_ = 0;  // offset of the first byte of head_

  std::uint64_t offset_ = 0;       // bytes consumed
  std::uint64_t line_ = 1;         // current line
  std::uint64_t line_offset_ = 0;  // offset of the current line
  std::uint64_t messages_ = 0;
  std::uint64_t batches_total_ = 0;
  bool in_batch_ = false, in_file_ = false;
  std::uint64_t batch_messages_ = 0, file_batches_ = 0;
  std::uint32_t batch_number_ = 0;
};

}  // namespace covgate::hl7v2
