// Push-style X12 tokenizer: finds each ISA, reads its delimiters, and splits the bytes that
// follow into segments, one callback per segment, without copying unless a segment straddles
// two chunks. Bounded: a segment longer than the limit is reported, not buffered.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "covgate/x12/error.hpp"
#include "covgate/x12/segment.hpp"

namespace covgate::x12 {

/// Limits of the tokenizer (per segment). Defaults suit real 837 traffic with a wide margin.
struct reader_limits {
  std::uint32_t max_segment_length = 4096;  ///< bytes, without terminator
  std::uint32_t max_elements = 128;         ///< data elements per segment
};

/// What the reader tells its handler besides segments.
struct reader_event {
  error code;           ///< an interchange-level error (TA1 family)
  location where;       ///< where it was found
  int isa_element = 0;  ///< for isa_element_width: the ISA element (1..16) at fault
};

/// Tokenizer. `Handler` needs `void on_segment(const segment&)` and
/// `void on_reader_error(const reader_event&)`.
/// Feed it with put() as bytes arrive (any chunk size, down to one byte) and call finish() at
/// the end of the input; the same segments come out however the input is split. Not
/// thread-safe; one reader per stream.
class segment_reader {
 public:
  explicit segment_reader(reader_limits limits = {}) : limits_(limits) {
    // ISA always has 16 elements, whatever the limit for other segments.
    ends_.resize(std::max<std::size_t>(limits_.max_elements + 2, 18));
    carry_.reserve(256);
  }

  /// Consumes all of `bytes`, calling the handler for every segment completed. A partial
  /// segment at the end is kept for the next call.
  template <class Handler>
  void put(std::string_view bytes, Handler& handler);

  /// Ends the input: delivers a final segment that lacks its terminator, and reports
  /// isa_not_found when no ISA was ever seen.
  template <class Handler>
  void finish(Handler& handler);

  /// The delimiters of the current (or last) interchange.
  [[nodiscard]] const delimiters& delims() const noexcept { return delims_; }
  /// True when the current ISA11 was a letter under 00501 and so no repetition separator.
  [[nodiscard]] bool repetition_letter_ignored() const noexcept { return letter_isa11_; }
  /// Non-blank bytes skipped before the first ISA (prose, a mail header…).
  [[nodiscard]] std::uint64_t leading_bytes_skipped() const noexcept { return leading_skipped_; }
  /// Bytes consumed so far.
  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }
  [[nodiscard]] std::uint64_t interchanges_seen() const noexcept { return interchanges_; }

 private:
  enum class state : std::uint8_t { seek_isa, read_isa, body, skip_to_isa };

  template <class Handler>
  void seek(char c, Handler& handler);
  template <class Handler>
  void parse_isa(Handler& handler);
  template <class Handler>
  void note_skipped(std::size_t count, Handler& handler);
  template <class Handler>
  void emit(std::string_view text, std::uint64_t offset, Handler& handler);
  template <class Handler>
  void emit_oversized(Handler& handler);
  // Adds `length` bytes at `p` (no terminator among them) to the segment being carried.
  template <class Handler>
  void carry(const char* p, std::size_t length, Handler& handler);
  template <class Handler>
  void deliver(std::string_view raw, std::uint64_t offset, std::uint32_t count, bool too_many,
               Handler& handler);
  template <class Handler>
  const char* scan(const char* p, const char* end, Handler& handler);

  void clear_isa() noexcept {
    isa_.clear();
    isa_scanned_ = 0;
    isa_separators_ = 0;
  }

  static bool is_blank(char c) noexcept {
    return c == ' ' || c == '\r' || c == '\n' || c == '\t' || c == '\f' || c == '\v';
  }
  static bool is_line_break(char c) noexcept { return c == '\r' || c == '\n'; }
  // How many blanks [p, stop) starts with (CR/LF after a terminator, indentation: no
  // segment's bytes), their line feeds counted in line_.
  std::size_t skip_blanks(const char* p, const char* stop) noexcept {
    const char* q = p;
    for (; q < stop && is_blank(*q); ++q) line_ += *q == '\n' ? 1 : 0;
    return static_cast<std::size_t>(q - p);
  }
  static bool is_alnum(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }

  reader_limits limits_;
  state state_ = state::seek_isa;
  delimiters delims_{};
  bool letter_isa11_ = false;
  std::string isa_;                   // bytes of the ISA being read
  std::uint32_t isa_scanned_ = 0;     // bytes of isa_ already searched for separators
  std::uint32_t isa_separators_ = 0;  // element separators found so far (ends_[0..n))
  std::string carry_;                 // a segment split across put() calls
  std::string crlf_;  // CR/LF after carry_ whose place is not known yet, up to the limit + 1
  std::uint64_t carry_offset_ = 0;
  bool oversized_ = false;  // dropping the rest of a too-long segment
  std::vector<std::uint32_t> ends_;
  std::uint64_t offset_ = 0;  // stream offset of the next byte
  std::uint64_t ordinal_ = 0;
  std::uint32_t line_ = 1;
  std::uint64_t leading_skipped_ = 0;
  std::uint64_t interchanges_ = 0;
  bool junk_reported_ = false;
  char previous_ = '\n';  // last byte seen while seeking, to find ISA only at a boundary
};

// ---- implementation -------------------------------------------------------------------------

template <class Handler>
void segment_reader::put(std::string_view bytes, Handler& handler) {
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  while (p < end) {
    if (state_ != state::body) {
      const char c = *p++;
      ++offset_;
      if (c == '\n') ++line_;
      if (state_ == state::read_isa) {
        isa_.push_back(c);
        parse_isa(handler);
      } else {
        seek(c, handler);
      }
      continue;
    }
    if (carry_.empty() && !oversized_) {
      p = scan(p, end, handler);
      if (state_ != state::body || p == end) continue;
      // An unfinished segment remains: it is carried below (or reported when too long).
    }
    // Body, slow path: a segment that started in an earlier chunk, or one being dropped.
    const auto* term = static_cast<const char*>(
        std::memchr(p, delims_.segment, static_cast<std::size_t>(end - p)));
    const char* stop = term ? term : end;
    if (!oversized_ && carry_.empty() && !term) {
      // Blanks before a segment are not its bytes (deliver() drops them): passed here, not
      // carried, so that a segment read in pieces is measured as it is read whole.
      const auto blanks = skip_blanks(p, stop);
      offset_ += blanks;
      p += blanks;
      if (p == stop) continue;
    }
    const auto length = static_cast<std::size_t>(stop - p);
    if (oversized_) {
      // Drop bytes until the terminator; the segment was already reported.
    } else if (carry_.empty() && term) {
      const std::uint64_t at = offset_;
      offset_ += length + 1;
      p = term + 1;
      emit({term - length, length}, at, handler);
      continue;
    } else {
      carry(p, length, handler);
    }
    offset_ += length;
    p = stop;
    if (term) {
      ++offset_;
      ++p;
      crlf_.clear();  // CR/LF at a segment's end are not its bytes (deliver() trims them)
      if (oversized_) {
        oversized_ = false;
        if (delims_.segment == '\n') ++line_;  // as deliver() counts a segment's line
      } else {
        std::string segment_text;
        segment_text.swap(carry_);  // emit() may reuse carry_ if this segment is an ISA
        emit(segment_text, carry_offset_, handler);
        segment_text.clear();
        if (carry_.capacity() < segment_text.capacity()) carry_.swap(segment_text);
      }
    }
  }
}

template <class Handler>
void segment_reader::carry(const char* p, std::size_t length, Handler& handler) {
  // CR/LF that end a piece may be the segment's last bytes (trimmed by deliver(), not counted
  // toward the limit) or lie inside it if more of it follows: kept aside until that is known.
  // What is kept aside stops one byte past the limit: more than that, and any more of the
  // segment makes it too long.
  const char* content_end = p + length;
  while (content_end > p && is_line_break(content_end[-1])) --content_end;
  const auto content = static_cast<std::size_t>(content_end - p);
  if (content > 0) {
    if (carry_.size() + crlf_.size() + content > limits_.max_segment_length) {
      return emit_oversized(handler);
    }
    if (carry_.empty()) carry_offset_ = offset_;
    carry_ += crlf_;  // all of them: within the limit here
    carry_.append(p, content);
    crlf_.clear();
  }
  const auto room = limits_.max_segment_length + 1 - crlf_.size();
  crlf_.append(content_end, std::min(length - content, room));
}

template <class Handler>
void segment_reader::finish(Handler& handler) {
  if (state_ == state::body && !oversized_ && !carry_.empty()) {
    // A last segment with no terminator (common for a file's final IEA): accept it.
    std::string segment_text;
    segment_text.swap(carry_);
    emit(segment_text, carry_offset_, handler);
  }
  carry_.clear();
  crlf_.clear();
  oversized_ = false;
  if (state_ == state::read_isa) {
    handler.on_reader_error({error::interchange_trailer_missing, {offset_, ordinal_, line_}});
  }
  if (interchanges_ == 0) {
    handler.on_reader_error({error::isa_not_found, {offset_, ordinal_, line_}});
  }
  state_ = state::seek_isa;
  clear_isa();
}

template <class Handler>
void segment_reader::seek(char c, Handler& handler) {
  // Looks for "ISA" at a boundary (start, after a blank or a non-alphanumeric byte) followed by
  // a plausible element separator. A UTF-8 byte order mark and blanks are skipped silently.
  const bool boundary = !is_alnum(previous_);
  previous_ = c;
  if (!isa_.empty()) {
    const auto size = isa_.size();
    if ((size == 1 && c == 'S') || (size == 2 && c == 'A')) {
      isa_.push_back(c);
      return;
    }
    if (size == 3 && !is_alnum(c) && !is_blank(c)) {
      isa_.push_back(c);
      state_ = state::read_isa;
      return;
    }
    note_skipped(size, handler);  // "I" or "IS" was text, not a header
    clear_isa();
  }
  if (c == 'I' && boundary) {
    isa_.push_back(c);
    return;
  }
  const auto byte = static_cast<unsigned char>(c);
  if (is_blank(c) || byte == 0xEF || byte == 0xBB || byte == 0xBF) return;
  note_skipped(1, handler);
}

template <class Handler>
void segment_reader::note_skipped(std::size_t count, Handler& handler) {
  if (state_ == state::skip_to_isa) return;
  if (interchanges_ == 0) {
    leading_skipped_ += count;
  } else if (!junk_reported_) {
    junk_reported_ = true;
    handler.on_reader_error({error::data_outside_interchange, {offset_ - 1, ordinal_, line_}});
  }
}

template <class Handler>
void segment_reader::parse_isa(Handler& handler) {
  // ISA is fixed width (106 bytes with its terminator), but a sender that gets a width wrong
  // should hear which element, so split on the element separator instead of trusting offsets.
  constexpr std::array<std::uint32_t, 17> widths{3, 2, 10, 2, 10, 2, 15, 2, 15,
                                                 6, 4, 1,  5, 9,  1, 1,  1};
  const char sep = isa_[3];
  // ends_[k] is the offset just past element k (k = 0 is "ISA"); complete once the 16th
  // separator, ISA16 and the terminator are in.
  // Called once per byte while the ISA comes in: search only the bytes not searched yet.
  for (std::uint32_t i = std::max<std::uint32_t>(3, isa_scanned_);
       i < isa_.size() && isa_separators_ < 16; ++i) {
    if (isa_[i] == sep) ends_[isa_separators_++] = i;
  }
  isa_scanned_ = static_cast<std::uint32_t>(isa_.size());
  if (isa_separators_ < 16 || isa_.size() < ends_[15] + 3) {
    if (isa_.size() > 160) {
      handler.on_reader_error(
          {error::isa_element_width, {offset_ - isa_.size(), ordinal_ + 1, line_}, 16});
      clear_isa();
      state_ = state::skip_to_isa;
    }
    return;
  }
  isa_.resize(ends_[15] + 3);
  ++interchanges_;
  junk_reported_ = false;
  const location where{offset_ - isa_.size(), ordinal_ + 1, line_};
  const char component = isa_[isa_.size() - 2];
  const char terminator = isa_[isa_.size() - 1];
  auto fail = [&](error code, int element = 0) {
    handler.on_reader_error({code, where, element});
    clear_isa();
    state_ = state::skip_to_isa;
  };
  if (is_alnum(sep) || is_blank(sep)) return fail(error::invalid_element_separator);
  ends_[16] = static_cast<std::uint32_t>(isa_.size() - 1);
  for (std::uint32_t e = 1; e <= 16; ++e) {
    if (ends_[e] - ends_[e - 1] - 1 != widths[e])
      return fail(error::isa_element_width, static_cast<int>(e));
  }
  if (is_alnum(component) || component == sep) return fail(error::invalid_component_separator);
  if (is_alnum(terminator) || terminator == sep || terminator == component) {
    return fail(error::invalid_segment_terminator);
  }
  delimiters d{sep, component, 0, terminator};
  const char isa11 = isa_[ends_[10] + 1];
  const std::string_view version(isa_.data() + ends_[11] + 1, 5);
  letter_isa11_ = false;
  if (version >= "00402") {
    if (is_alnum(isa11)) {
      letter_isa11_ = true;  // e.g. 'U' carried over from 4010: treated as "no separator"
    } else if (isa11 == sep || isa11 == component || isa11 == terminator) {
      return fail(error::invalid_repetition_separator, 11);
    } else if (isa11 != ' ') {
      d.repetition = isa11;
    }
  }
  delims_ = d;
  state_ = state::body;
  std::string isa_text;
  isa_text.swap(isa_);
  isa_text.pop_back();  // the terminator
  ++ordinal_;
  const segment seg(isa_text, ends_.data(), 17, delims_, where);
  handler.on_segment(seg);
  isa_text.clear();
  isa_.swap(isa_text);  // keeps the buffer for the next ISA
  clear_isa();
  previous_ = terminator;
}

template <class Handler>
void segment_reader::emit(std::string_view raw, std::uint64_t offset, Handler& handler) {
  // The slow path (a segment that straddled two chunks): split with memchr, then deliver.
  const char* base = raw.data();
  const char* const end = base + raw.size();
  const char* p = base;
  std::uint32_t count = 0;
  const std::uint32_t cap = limits_.max_elements + 1;
  bool too_many = false;
  for (;;) {
    const auto* sep = static_cast<const char*>(
        std::memchr(p, delims_.element, static_cast<std::size_t>(end - p)));
    const char* stop = sep ? sep : end;
    if (count == cap) {
      too_many = true;
      break;
    }
    ends_[count++] = static_cast<std::uint32_t>(stop - base);
    if (!sep) break;
    p = sep + 1;
  }
  deliver(raw, offset, count, too_many, handler);
}

template <class Handler>
void segment_reader::deliver(std::string_view raw, std::uint64_t offset, std::uint32_t count,
                             bool too_many, Handler& handler) {
  // `ends_[0..count)` hold element ends relative to raw.data(). Blanks around segments (CR/LF
  // after the terminator, indentation) are noise, not data.
  const auto skip = static_cast<std::uint32_t>(skip_blanks(raw.data(), raw.data() + raw.size()));
  std::string_view text = raw.substr(skip);
  offset += skip;
  while (!text.empty() && is_line_break(text.back())) text.remove_suffix(1);
  const std::uint32_t line = line_;
  if (delims_.segment == '\n') ++line_;
  if (text.empty()) return;
  const location where{offset, ++ordinal_, line};
  if (text.size() > limits_.max_segment_length) {
    const segment seg({}, ends_.data(), 0, delims_, where, error::segment_too_long);
    handler.on_segment(seg);
    return;
  }
  if (text.size() >= 3 && text[0] == 'I' && text[1] == 'S' && text[2] == 'A' &&
      (text.size() == 3 || text[3] == delims_.element)) {
    // A new interchange began before IEA: hand the ISA back to the header parser.
    handler.on_reader_error({error::interchange_trailer_missing, where});
    --ordinal_;
    clear_isa();
    isa_.assign(text);
    isa_.push_back(delims_.segment);
    state_ = state::read_isa;
    parse_isa(handler);
    return;
  }
  // The ends stay counted from raw.data(): the blanks skipped hold no element separator
  // (parse_isa() refuses a blank one), so only the last end can lie past the text, in the CR/LF
  // trimmed after it.
  if (count > 0) {
    ends_[count - 1] = std::min(ends_[count - 1], skip + static_cast<std::uint32_t>(text.size()));
  }
  const segment seg(text, raw.data(), ends_.data(), count, delims_, where,
                    too_many ? error::too_many_elements : error{});
  const bool is_iea = text.size() >= 3 && text[0] == 'I' && text[1] == 'E' && text[2] == 'A' &&
                      (text.size() == 3 || text[3] == delims_.element);
  handler.on_segment(seg);
  if (is_iea) {
    state_ = state::seek_isa;
    previous_ = delims_.segment;
  }
}

template <class Handler>
const char* segment_reader::scan(const char* p, const char* end, Handler& handler) {
  // The fast path: one pass over the chunk finds terminators and element separators together
  // (16 bytes per step with SSE2), so a segment costs one bitmask walk, not a call per
  // element. Returns where the unfinished segment starts (or where the body state ended).
  const char* start = p;
  std::uint32_t count = 0;
  bool too_many = false;
  const std::uint32_t cap = limits_.max_elements + 1;
  const char terminator = delims_.segment;
  const char separator = delims_.element;
  auto on_delimiter = [&](const char* at) -> bool {
    if (count < cap) {
      ends_[count++] = static_cast<std::uint32_t>(at - start);
    } else {
      too_many = true;
    }
    if (*at != terminator) return true;
    const std::uint64_t offset = offset_ + static_cast<std::uint64_t>(start - p);
    deliver({start, static_cast<std::size_t>(at - start)}, offset, count, too_many, handler);
    start = at + 1;
    count = 0;
    too_many = false;
    return state_ == state::body;
  };
  const char* q = p;
#if defined(__SSE2__)
  const __m128i term_v = _mm_set1_epi8(terminator);
  const __m128i sep_v = _mm_set1_epi8(separator);
  for (; end - q >= 16; q += 16) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    auto bits = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(block, term_v), _mm_cmpeq_epi8(block, sep_v))));
    while (bits) {
      const char* at = q + __builtin_ctz(bits);
      bits &= bits - 1;
      if (!on_delimiter(at)) {
        offset_ += static_cast<std::uint64_t>(at + 1 - p);
        return at + 1;
      }
    }
  }
#endif
  for (; q < end; ++q) {
    if (*q != terminator && *q != separator) continue;
    if (!on_delimiter(q)) {
      offset_ += static_cast<std::uint64_t>(q + 1 - p);
      return q + 1;
    }
  }
  offset_ += static_cast<std::uint64_t>(start - p);
  return start;
}

template <class Handler>
void segment_reader::emit_oversized(Handler& handler) {
  const location where{carry_.empty() ? offset_ : carry_offset_, ++ordinal_, line_};
  carry_.clear();
  crlf_.clear();
  oversized_ = true;
  const segment seg({}, ends_.data(), 0, delims_, where, error::segment_too_long);
  handler.on_segment(seg);
}

}  // namespace covgate::x12
