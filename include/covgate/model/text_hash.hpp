// The hash of every string-keyed table: code tables, the memory state's indexes, the fact
// index's patients.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace covgate::model {

/// Hashes a key as the string_view it is in a claim or a resource, so a table is looked up
/// without a key built for it (`is_transparent`). std::hash, not boost::hash: Boost 1.81's
/// hash of a character range, though inlined, took more instructions in a claims-only replay
/// (callgrind: 698.2 M against 693.4 M on the gate's thread). Never stored: its values may
/// change with the library.
struct text_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

/// text_hash folded to 32 bits: what a table entry that carries its key's hash keeps, so that
/// a growing table rehashes it without reading the key again (a cache miss per entry).
inline std::uint32_t text_hash32(std::string_view text) noexcept {
  const std::uint64_t h = text_hash{}(text);
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

}  // namespace covgate::model
