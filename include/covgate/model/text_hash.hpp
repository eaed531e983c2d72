// The hash of every string-keyed table: code tables, the memory state's indexes, the fact
// index's patients.
#pragma once

#include <cstddef>
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

}  // namespace covgate::model
