// Builds X12 segments in a given set of delimiters and counts them (for SE01), shared by the
// 999/TA1 and 277 writers.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>

#include "covgate/model/copy_text.hpp"
#include "covgate/x12/segment.hpp"

namespace covgate::x12 {

/// A short value (a number, an amount, a date) written into a buffer of its own, so a segment
/// takes it without an allocation.
class short_text {
 public:
  [[nodiscard]] std::string_view view() const noexcept { return {text_, size_}; }
  operator std::string_view() const noexcept { return view(); }  // NOLINT: used as a value
  /// Appends `part`; the buffer holds 40 characters, more is cut (no caller writes that much).
  short_text& append(std::string_view part) noexcept {
    const auto n = std::min(part.size(), sizeof text_ - size_);
    std::memcpy(text_ + size_, part.data(), n);
    size_ += static_cast<std::uint8_t>(n);
    return *this;
  }
  /// Appends `n` in decimal, at least `width` digits (zero-padded).
  short_text& number(std::int64_t n, int width = 0) noexcept {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n < 0 ? -n : n);
    (void)ec;
    if (n < 0) append("-");
    for (auto pad = static_cast<long>(width) - (end - digits); pad > 0; --pad) append("0");
    return append({digits, static_cast<std::size_t>(end - digits)});
  }

 private:
  char text_[40];
  std::uint8_t size_ = 0;
};

/// `n` in decimal.
[[nodiscard]] inline short_text decimal(std::int64_t n) noexcept { return short_text{}.number(n); }

/// Who an interchange is from and to (ISA05..ISA08), as sent (padded here).
struct interchange_parties {
  std::string_view sender_qualifier, sender_id, receiver_qualifier, receiver_id;
};

class segment_writer {
 public:
  /// Writes into `out` from `from` (at most its size): what it holds before `from` is kept,
  /// from there on it is overwritten, and its size is kept as room to write in (a buffer
  /// reused for answer after answer is not filled or faulted in again); written() is what this
  /// writer wrote.
  segment_writer(const delimiters& d, bool line_breaks, std::string& out, std::size_t from = 0)
      : d_(d),
        // A terminator that is itself a line break needs no other.
        breaks_(line_breaks && d.segment != '\n' && d.segment != '\r'),
        out_(out),
        from_(std::min(from, out.size())),
        at_(out.data() + from_),
        end_(out.data() + out.size()) {}

  segment_writer& begin(std::string_view id) {
    put(id);
    ++count_;
    return *this;
  }
  segment_writer& element(std::string_view value) {
    put(d_.element, value);
    return *this;
  }
  /// Appends a component to the element just written.
  segment_writer& component(std::string_view value) {
    put(d_.component, value);
    return *this;
  }
  /// Appends `value` to the element just written (a value written in parts).
  segment_writer& more(std::string_view value) {
    put(value);
    return *this;
  }
  /// A composite element ("A6:453"), trailing empty components dropped: composite() written
  /// straight into the segment.
  segment_writer& composite_element(std::initializer_list<std::string_view> parts) {
    put(d_.element);
    std::size_t kept = 0, i = 0;
    for (const auto p : parts) {
      ++i;
      if (!p.empty()) kept = i;
    }
    i = 0;
    for (const auto p : parts) {
      if (i == kept) break;
      if (i++ > 0) put(d_.component);
      put(p);
    }
    return *this;
  }
  /// A composite value ("A6:453"), trailing empty components dropped.
  [[nodiscard]] std::string composite(std::initializer_list<std::string_view> parts) const {
    std::string c;
    bool first = true;
    for (const auto p : parts) {
      if (!first) c.push_back(d_.component);
      first = false;
      c.append(p);
    }
    while (!c.empty() && c.back() == d_.component) c.pop_back();
    return c;
  }
  /// Appends a whole segment this writer wrote before (written() shows it, its terminator and
  /// line break included), counting it: a segment a message repeats is written once.
  void repeat(std::string_view segment) {
    put(segment);
    ++count_;
  }
  /// Ends the segment; trailing empty elements are not sent (X12 syntax rule).
  void end() {
    // The buffer's start in a local: at_ is a char* member, and a store to it may alias the
    // string's own pointer, which the loop would then load again at every step.
    const char* const start = out_.data() + from_;
    while (at_ != start && at_[-1] == d_.element) --at_;
    put(d_.segment);
    if (breaks_) put('\n');
  }
  /// Writes a 00501 ISA (106 bytes with its terminator): no authorization or security
  /// information, fixed-width ids, the writer's own delimiters, no TA1 requested.
  void isa(const interchange_parties& parties, std::string_view yymmdd, std::string_view hhmm,
           std::uint32_t control, char usage) {
    char number[16];
    std::snprintf(number, sizeof number, "%09u", control % 1000000000u);
    begin("ISA").element("00").element(padded("", 10)).element("00").element(padded("", 10));
    element(parties.sender_qualifier).element(padded(parties.sender_id, 15));
    element(parties.receiver_qualifier).element(padded(parties.receiver_id, 15));
    element(yymmdd).element(hhmm).element(std::string(1, d_.repetition)).element("00501");
    element(number).element("0").element(std::string(1, usage == 'T' ? 'T' : 'P'));
    element(std::string(1, d_.component));
    put(d_.segment);  // ISA16 is the component separator itself: no trimming
    if (breaks_) put('\n');
  }

  /// `text` cut or padded with spaces to `width` (the ISA's fixed-width elements).
  [[nodiscard]] static std::string padded(std::string_view text, std::size_t width) {
    std::string out(text.substr(0, width));
    out.resize(width, ' ');
    return out;
  }

  [[nodiscard]] std::uint32_t count() const noexcept { return count_; }
  void reset_count() noexcept { count_ = 0; }
  /// What was written (writing may go on after).
  [[nodiscard]] std::string_view written() const noexcept {
    return {out_.data() + from_, size() - from_};
  }
  /// The buffer cut to what was written, and what it held before (writing may go on after).
  std::string& text() {
    const auto n = size();
    out_.resize(n);
    at_ = end_ = out_.data() + n;
    return out_;
  }
  /// Room for `n` bytes in all, ahead of writing them (one allocation for a whole answer).
  void expect(std::size_t n) {
    if (out_.size() - from_ < n) resize(from_ + n);
  }

 private:
  // A 277 is some hundred short elements per claim: appending each to the string (a capacity
  // check and a call for the separator and again for the value) cost more than the bytes. So
  // out_ is grown ahead and written through a pointer: at_ is where the next byte goes, end_
  // where the room ends (text() cuts the rest). Two pointers of our own, not out_'s size and
  // data: every byte written through a char* may alias them, so each is loaded again after
  // each write, and out_'s took a load of the reference and of the string each (callgrind:
  // the room check was the writer's largest line). It grows a chunk at a time, not in
  // doublings: resize() zero-fills what it adds, and the string's capacity doubles by itself.
  // A buffer reused (write_277 into the intake's) keeps its size, so it is filled once, not
  // once per answer.
  [[gnu::always_inline]] char* room(std::size_t n) {
    if (static_cast<std::size_t>(end_ - at_) < n) [[unlikely]]
      grow(n);
    char* const at = at_;
    at_ += n;
    return at;
  }
  [[gnu::noinline]] void grow(std::size_t n) { resize(size() + n + 4096); }
  [[nodiscard]] std::size_t size() const noexcept {
    return static_cast<std::size_t>(at_ - out_.data());
  }
  void resize(std::size_t n) {
    const auto written = size();
    out_.resize(n);
    at_ = out_.data() + written;
    end_ = out_.data() + out_.size();
  }
  void put(char c) { *room(1) = c; }
  void put(std::string_view value) {
    model::copy_short(room(value.size()), value.data(), value.size());
  }
  /// A separator and the value after it.
  void put(char separator, std::string_view value) {
    char* const at = room(1 + value.size());
    *at = separator;
    model::copy_short(at + 1, value.data(), value.size());
  }

  const delimiters& d_;
  bool breaks_;  // a line break after each terminator
  std::string& out_;
  std::size_t from_;  // where this writer's text starts in out_
  char* at_;          // the next byte's place in out_
  char* end_;         // the end of out_'s room
  std::uint32_t count_ = 0;
};

}  // namespace covgate::x12
