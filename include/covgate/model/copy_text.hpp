// Copying a value that was read (an 837 element, a decoded fact's field) into a string kept
// from one claim or fact to the next, or into room a writer made ahead (a 277, a decision line).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace covgate::model {

/// Sets `to` to the bytes of `from`, which never lie inside `to`: cleared and appended, which
/// reuses `to`'s room and skips assign()'s check for a source inside the string, a check that
/// cost more than the short copies themselves (callgrind: the 837 mapper 773.0 M -> 764.1 M
/// instructions, the gate's thread decoding a day's facts 1,160.2 M -> 1,138.4 M). Take the
/// view without substr(): its bounds check cost the decoder 7 M of those.
inline void copy_text(std::string& to, std::string_view from) {
  to.clear();
  to.append(from.data(), from.size());
}

namespace detail {
// `n` bytes (sizeof(Word) <= n <= 2 * sizeof(Word)) as the first and the last Word, which
// overlap in the middle.
template <class Word>
[[gnu::always_inline]] inline void copy_ends(char* to, const char* from, std::size_t n) {
  Word head = 0, tail = 0;
  std::memcpy(&head, from, sizeof(Word));
  std::memcpy(&tail, from + n - sizeof(Word), sizeof(Word));
  std::memcpy(to, &head, sizeof(Word));
  std::memcpy(to + n - sizeof(Word), &tail, sizeof(Word));
}
}  // namespace detail

/// Copies `n` bytes to room a writer made ahead (the two do not overlap). Sixteen bytes or
/// fewer (most values: codes, ids, amounts, dates) take two overlapping fixed-size moves the
/// compiler inlines, reading nothing outside the value; a longer one goes to memcpy, whose
/// call and dispatch on the size cost more than a short value's bytes (callgrind: the gate
/// thread of a claims-only replay 655.4 M -> 648.9 M instructions, in the 277 writer). The
/// store's binary archive, tried the same way, took more: its string writer stopped being
/// inlined.
[[gnu::always_inline]] inline void copy_short(char* to, const char* from, std::size_t n) {
  if (n > 16) {
    std::memcpy(to, from, n);
  } else if (n >= 8) {
    detail::copy_ends<std::uint64_t>(to, from, n);
  } else if (n >= 4) {
    detail::copy_ends<std::uint32_t>(to, from, n);
  } else if (n > 0) {
    const char first = from[0], middle = from[n / 2], last = from[n - 1];
    to[0] = first;
    to[n / 2] = middle;
    to[n - 1] = last;
  }
}

}  // namespace covgate::model
