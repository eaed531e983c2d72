// A view of one X12 segment inside the reader's buffer, split into elements without copying.
#pragma once

#include <cstdint>
#include <string_view>

#include "covgate/x12/error.hpp"

namespace covgate::x12 {

/// The four delimiters of an interchange, read from its ISA (never hard-coded).
struct delimiters {
  char element = '*';
  char component = ':';
  char repetition = 0;  ///< 0 when the interchange has none
  char segment = '~';
};

/// A segment id packed into an integer ("NM1" -> 'N' << 16 | 'M' << 8 | '1'), so the hot path
/// compares ids with one instruction. Ids longer than three characters map to 0.
[[nodiscard]] constexpr std::uint32_t segment_key(std::string_view id) noexcept {
  if (id.size() > 3) return 0;
  std::uint32_t key = 0;
  for (const char c : id) key = key << 8 | static_cast<unsigned char>(c);
  return key;
}

/// Where a segment sits in the input, for diagnostics (never its content).
struct location {
  std::uint64_t offset = 0;   ///< byte offset of the segment's first byte in the stream
  std::uint64_t ordinal = 0;  ///< 1-based count of segments in the stream
  std::uint32_t line = 1;     ///< 1-based line number (counts LF)
};

/// A segment: its id is element 0, data elements are 1-based as in the standard (NM1-03 is
/// element(3)). Cheap to copy; valid only during the callback that received it.
class segment {
 public:
  /// `ends[i]` is where element i ends in `text` (its separator, or text.size() for the last):
  /// ascending and within `text`, as the reader makes them. element() trusts them unchecked.
  segment(std::string_view text, const std::uint32_t* ends, std::uint32_t count,
          const delimiters& delims, location where, error defect = error{}) noexcept
      : segment(text, text.data(), ends, count, delims, where, defect) {}
  /// The same with `ends` counted from `origin`, which is `text.data()` or before it (the blanks
  /// the reader skipped in front of a segment), so the reader need not shift every end. Each
  /// end then lies in [text.data() - origin, text.data() - origin + text.size()].
  segment(std::string_view text, const char* origin, const std::uint32_t* ends, std::uint32_t count,
          const delimiters& delims, location where, error defect = error{}) noexcept
      : text_(text),
        origin_(origin),
        ends_(ends),
        count_(count),
        key_(key_of(text, count ? ends[0] - static_cast<std::uint32_t>(text.data() - origin) : 0)),
        delims_(&delims),
        where_(where),
        defect_(defect) {}

  /// The segment id, e.g. "CLM".
  [[nodiscard]] std::string_view id() const noexcept { return element(0); }
  /// The segment id as segment_key(id()).
  [[nodiscard]] std::uint32_t key() const noexcept { return key_; }
  /// True when the id is `id` (compared as keys: pass a literal).
  [[nodiscard]] bool is(std::string_view id_literal) const noexcept {
    return key() == segment_key(id_literal);
  }

  /// The number of data elements present (trailing empty elements count if sent).
  [[nodiscard]] std::uint32_t element_count() const noexcept { return count_ ? count_ - 1 : 0; }

  /// Data element `index` (1-based; 0 is the id); "" when not sent.
  [[nodiscard]] std::string_view element(std::uint32_t index) const noexcept {
    if (index >= count_) return {};
    const std::uint32_t begin = index == 0 ? first() : ends_[index - 1] + 1;
    // The reader's ends lie within text_: no bounds check (substr's would run per element).
    return {origin_ + begin, ends_[index] - begin};
  }

  /// Component `part` (1-based) of element `index`; "" when not sent.
  [[nodiscard]] std::string_view component(std::uint32_t index, std::uint32_t part) const noexcept {
    return nth_part(element(index), delims_->component, part);
  }

  /// Splits `value` on `separator` and returns part `part` (1-based), or "".
  [[nodiscard]] static std::string_view nth_part(std::string_view value, char separator,
                                                 std::uint32_t part) noexcept {
    // Elements are a few bytes long: a plain loop beats a library search call here.
    std::size_t begin = 0;
    for (std::uint32_t n = 1; n < part; ++n) {
      while (begin < value.size() && value[begin] != separator) ++begin;
      if (begin == value.size()) return {};
      ++begin;
    }
    std::size_t end = begin;
    while (end < value.size() && value[end] != separator) ++end;
    return value.substr(begin, end - begin);
  }

  /// The whole segment without its terminator.
  [[nodiscard]] std::string_view text() const noexcept { return text_; }
  [[nodiscard]] const delimiters& delims() const noexcept { return *delims_; }
  [[nodiscard]] const location& where() const noexcept { return where_; }

  /// A syntax problem the reader found in this segment (segment_too_long, too_many_elements),
  /// or error{} (value 0) when it is well formed as far as the reader can tell.
  [[nodiscard]] error defect() const noexcept { return defect_; }

 private:
  static std::uint32_t key_of(std::string_view text, std::uint32_t id_length) noexcept {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    switch (id_length) {
      case 2:
        return static_cast<std::uint32_t>(byte(0) << 8 | byte(1));
      case 3:
        return static_cast<std::uint32_t>(byte(0) << 16 | byte(1) << 8 | byte(2));
      case 1:
        return byte(0);
      default:
        return 0;
    }
  }

  // Where text_ starts, counted from origin_ (the ends' zero).
  [[nodiscard]] std::uint32_t first() const noexcept {
    return static_cast<std::uint32_t>(text_.data() - origin_);
  }

  std::string_view text_;
  const char* origin_;
  const std::uint32_t* ends_;
  std::uint32_t count_;
  std::uint32_t key_;  // computed once: every layer above dispatches on it
  const delimiters* delims_;
  location where_;
  error defect_;
};

/// True when `id` is a well-formed segment id: 2 or 3 upper-case letters or digits, starting
/// with a letter.
[[nodiscard]] constexpr bool well_formed_segment_id(std::string_view id) noexcept {
  if (id.size() < 2 || id.size() > 3) return false;
  if (id[0] < 'A' || id[0] > 'Z') return false;
  for (const char c : id) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

}  // namespace covgate::x12
