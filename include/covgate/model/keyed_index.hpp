// A table of the indexes of a list's items (a vector or a deque), looked up by each item's key
// as a string_view: the memory state's claims, patients and interned texts, the fact index's
// patients.
#pragma once

#include <cstdint>
#include <string_view>

#include <boost/unordered/unordered_flat_set.hpp>

#include "covgate/model/text_hash.hpp"

namespace covgate::model {

// A key is not kept in the table: a view of an item's key would dangle when the item's bytes
// move, and an index is 4 bytes where a view and an index are 24. An entry is the index and
// its key's hash (32 bits each): a table that grows rehashes its entries by the hash they
// carry, where hashing them by their index read every item's key again, a cache miss and a
// hash per entry at each doubling (4 % of a claims-only replay's gate thread, perf).
using keyed_index_entry = std::uint64_t;

[[nodiscard]] inline keyed_index_entry keyed_entry(std::uint32_t index,
                                                   std::string_view key) noexcept {
  return keyed_index_entry{text_hash32(key)} << 32 | index;
}
[[nodiscard]] inline std::uint32_t index_in(keyed_index_entry e) noexcept {
  return static_cast<std::uint32_t>(e);
}

struct keyed_index_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const noexcept { return text_hash32(key); }
  std::size_t operator()(keyed_index_entry e) const noexcept {
    return static_cast<std::size_t>(e >> 32);
  }
};

/// Compares a key with the key `KeyOf` gives of the item an entry indexes in `items`.
template <class Items, class KeyOf>
struct keyed_index_equal {
  using is_transparent = void;
  const Items* items;
  bool operator()(keyed_index_entry a, keyed_index_entry b) const noexcept { return a == b; }
  bool operator()(std::string_view key, keyed_index_entry e) const noexcept {
    return key == KeyOf{}((*items)[index_in(e)]);
  }
  bool operator()(keyed_index_entry e, std::string_view key) const noexcept {
    return key == KeyOf{}((*items)[index_in(e)]);
  }
};

/// Made with `{0, {}, {&items}}`; entries inserted as keyed_entry(index, key), found by key.
template <class Items, class KeyOf>
using keyed_index =
    boost::unordered_flat_set<keyed_index_entry, keyed_index_hash, keyed_index_equal<Items, KeyOf>>;

}  // namespace covgate::model
