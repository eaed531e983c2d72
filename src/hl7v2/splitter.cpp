#include "covgate/hl7v2/splitter.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

namespace covgate::hl7v2 {
namespace {

constexpr char vt = '\x0B';  // MLLP start block, left in some stored files
constexpr char fs = '\x1C';  // MLLP end block
constexpr std::string_view bom = "\xEF\xBB\xBF";

bool blank(char c) noexcept { return c == ' ' || c == '\t' || c == vt || c == fs; }

bool separator_char(char c) noexcept {
  const bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  return !alnum && c != '\r' && c != '\n' && c != 0;
}

// BTS-1 / FTS-1: a count as sent, or nullopt when empty or not a plain number.
std::optional<std::uint64_t> count_field(std::string_view segment) {
  if (segment.size() < 4) return std::nullopt;
  const char sep = segment[3];
  auto field = segment.substr(4);
  field = field.substr(0, field.find(sep));
  // A count is NM: an integer, perhaps written "2.0" or with blanks.
  while (!field.empty() && field.front() == ' ') field.remove_prefix(1);
  while (!field.empty() && field.back() == ' ') field.remove_suffix(1);
  if (const auto point = field.find('.'); point != std::string_view::npos) {
    if (field.substr(point + 1).find_first_not_of('0') != std::string_view::npos) {
      return std::nullopt;
    }
    field = field.substr(0, point);
  }
  if (field.empty() || field.size() > 18) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : field) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

}  // namespace

message_splitter::message_splitter(message_handler on_message, notice_handler on_notice,
                                   splitter_limits limits)
    : on_message_(std::move(on_message)), on_notice_(std::move(on_notice)), limits_(limits) {}

bool message_splitter::ends_line(char c) const noexcept {
  if (c == '\r') return true;
  if (c != '\n') return false;
  // Inside a CR-terminated message an LF in the middle of a segment is data.
  return !(in_message_ && mode_ == mode::cr);
}

void message_splitter::note(error code, std::uint64_t declared, std::uint64_t counted) {
  if (on_notice_) on_notice_({code, line_, line_offset_, declared, counted});
}

void message_splitter::append_message(std::string_view bytes) {
  const auto room =
      limits_.max_message_bytes - std::min(limits_.max_message_bytes, message_.size());
  if (bytes.size() > room) {
    info_.oversize = true;
    bytes = bytes.substr(0, room);
  }
  message_.append(bytes);
}

void message_splitter::emit() {
  if (!in_message_) return;
  if (on_message_) on_message_(message_, info_);
  message_.clear();
  in_message_ = false;
  mode_ = mode::unknown;
}

// Decides what the current line is from its first bytes (head_, at most four unless the line
// ended sooner).
void message_splitter::classify() {
  const std::string_view head = head_;
  const auto id = head.substr(0, 3);
  const bool header_like = head.size() >= 3 && (head.size() == 3 || separator_char(head[3]));
  if (header_like && id == "MSH" && head.size() >= 4) {
    emit();
    in_message_ = true;
    mode_ = mode::unknown;
    info_ = {};
    info_.offset = head_offset_;
    info_.line = line_;
    info_.index = ++messages_;
    info_.batch = in_batch_ ? batch_number_ : 0;
    if (in_batch_) ++batch_messages_;
    stray_noted_ = false;
    message_.clear();
    append_message(head);
    state_ = line_state::message;
    return;
  }
  if (header_like && (id == "BHS" || id == "FHS" || id == "BTS" || id == "FTS")) {
    emit();
    stray_noted_ = false;
    state_ = line_state::batch;  // head_ keeps collecting the whole segment
    return;
  }
  if (in_message_) {
    append_message(head);
    state_ = line_state::message;
    return;
  }
  if (!head_blank_ && !stray_noted_) {
    note(error::text_between_messages);
    stray_noted_ = true;
  }
  state_ = line_state::skip;
}

void message_splitter::batch_segment() {
  const std::string_view segment = head_;
  const auto id = segment.substr(0, 3);
  if (id == "FHS") {
    if (in_file_) note(error::batch_trailer_missing);
    in_file_ = true;
    file_batches_ = 0;
  } else if (id == "BHS") {
    if (in_batch_) note(error::batch_trailer_missing);
    in_batch_ = true;
    batch_messages_ = 0;
    ++batch_number_;
    ++batches_total_;
    if (in_file_) ++file_batches_;
  } else if (id == "BTS") {
    if (!in_batch_) {
      note(error::unexpected_trailer);
    } else {
      const auto declared = count_field(segment);
      if (declared && *declared != batch_messages_) {
        note(error::batch_count_mismatch, *declared, batch_messages_);
      }
      in_batch_ = false;
    }
  } else if (id == "FTS") {
    if (!in_file_) {
      note(error::unexpected_trailer);
    } else {
      if (in_batch_) {
        note(error::batch_trailer_missing);
        in_batch_ = false;
      }
      const auto declared = count_field(segment);
      if (declared && *declared != file_batches_) {
        note(error::file_count_mismatch, *declared, file_batches_);
      }
      in_file_ = false;
    }
  }
}

void message_splitter::end_line(char terminator) {
  switch (state_) {
    case line_state::head:
      // A line that ended before four bytes: classify it with what it has.
      if (head_blank_) {
        if (in_message_ && terminator != 0) message_ += terminator;
      } else {
        classify();
        if (state_ == line_state::batch) batch_segment();
        if (state_ == line_state::message && terminator != 0) {
          append_message(std::string_view(&terminator, 1));
        }
      }
      break;
    case line_state::message:
      if (terminator != 0) append_message(std::string_view(&terminator, 1));
      if (mode_ == mode::unknown) mode_ = terminator == '\n' ? mode::lf : mode::cr;
      break;
    case line_state::batch:
      batch_segment();
      break;
    case line_state::skip:
      break;
  }
  state_ = line_state::head;
  head_.clear();
  head_blank_ = true;
  ++line_;
  line_offset_ = offset_;
}

void message_splitter::put(std::string_view bytes) {
  const char* const data = bytes.data();
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    if (stream_start_) {
      // A byte-order mark may open the stream (it may straddle chunks too).
      if (bom_matched_ < bom.size() && data[i] == bom[bom_matched_]) {
        ++bom_matched_;
        ++i;
        ++offset_;
        line_offset_ = offset_;
        if (bom_matched_ == bom.size()) stream_start_ = false;
        continue;
      }
      stream_start_ = false;
      if (bom_matched_ > 0) {
        // Not a BOM after all: those bytes open the first line.
        head_offset_ = 0;
        head_.assign(bom.substr(0, bom_matched_));
        head_blank_ = false;
      }
    }
    const char c = data[i];
    switch (state_) {
      case line_state::head: {
        if (head_.empty() && c == '\n' && !ends_line(c)) {
          // An LF opening a line of a CR-terminated message: the LF of a CRLF, or a blank line.
          append_message(std::string_view(&c, 1));
          if (!after_cr_) {
            ++line_;
          }
          after_cr_ = false;
          ++i;
          ++offset_;
          line_offset_ = offset_;
          continue;
        }
        if (c == '\n' && after_cr_ && head_.empty()) {
          // The LF of a CRLF outside a message: same line.
          if (in_message_) message_ += c;
          after_cr_ = false;
          ++i;
          ++offset_;
          line_offset_ = offset_;
          continue;
        }
        after_cr_ = false;
        ++i;
        ++offset_;
        if (ends_line(c)) {
          end_line(c);
          after_cr_ = c == '\r';
          continue;
        }
        if (head_.empty()) {
          if (c == vt || c == fs) {
            line_offset_ = offset_;  // framing bytes before a segment are not part of it
            continue;
          }
          head_offset_ = offset_ - 1;
        }
        head_ += c;
        if (!blank(c)) head_blank_ = false;
        if (head_.size() == 4) classify();
        continue;
      }
      case line_state::message: {
        // Bulk: everything up to this line's terminator belongs to the message.
        std::size_t end = i;
        if (mode_ == mode::cr) {
          const void* hit = std::memchr(data + i, '\r', n - i);
          end = hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - data) : n;
        } else {
          while (end < n && data[end] != '\r' && data[end] != '\n') ++end;
        }
        append_message(bytes.substr(i, end - i));
        offset_ += end - i;
        i = end;
        if (i < n) {
          const char t = data[i++];
          ++offset_;
          end_line(t);
          after_cr_ = t == '\r';
        }
        continue;
      }
      case line_state::batch:
      case line_state::skip: {
        std::size_t end = i;
        while (end < n && data[end] != '\r' && data[end] != '\n') ++end;
        const auto run = bytes.substr(i, end - i);
        if (state_ == line_state::batch) {
          const auto room = limits_.max_batch_segment_bytes -
                            std::min(limits_.max_batch_segment_bytes, head_.size());
          head_.append(run.substr(0, room));
        } else if (!stray_noted_ && !in_message_) {
          for (const char r : run) {
            if (!blank(r)) {
              note(error::text_between_messages);
              stray_noted_ = true;
              break;
            }
          }
        }
        offset_ += end - i;
        i = end;
        if (i < n) {
          const char t = data[i++];
          ++offset_;
          end_line(t);
          after_cr_ = t == '\r';
        }
        continue;
      }
    }
  }
}

void message_splitter::finish() {
  if (stream_start_ && bom_matched_ > 0) {
    head_.assign(bom.substr(0, bom_matched_));
    head_blank_ = false;
  }
  if (state_ != line_state::head || !head_.empty()) end_line(0);
  emit();
  if (in_batch_) note(error::batch_trailer_missing);
  if (in_file_) note(error::batch_trailer_missing);
  // A fresh stream may follow.
  message_.clear();
  head_.clear();
  in_message_ = false;
  mode_ = mode::unknown;
  state_ = line_state::head;
  head_blank_ = true;
  after_cr_ = false;
  stray_noted_ = false;
  stream_start_ = true;
  bom_matched_ = 0;
  offset_ = 0;
  line_ = 1;
  line_offset_ = 0;
  in_batch_ = in_file_ = false;
  batch_messages_ = file_batches_ = 0;
  batch_number_ = 0;
}

}  // namespace covgate::hl7v2
