// An open-addressing map from 32-bit keys that are already hashes to 32-bit values: the fact
// index's table from each resource's hash to its patient, a million entries for a day's
// records, each looked up once where it is applied. One slot of 8 bytes holds a key and its
// value together, so a lookup reads one cache line (Boost's flat map, used before, keeps its
// groups' metadata apart from its elements: an insert read one line and wrote another), and a
// caller can prefetch that line runs ahead of the lookup (prefetch()): a prefetch is not
// waited for, where a lookup made only to warm the line held up everything after it.
//
// Linear probing at a load of at most 3/4, removal by shifting the entries after a removed
// one back (no tombstones: a table that loses and gains entries for as long as a server runs
// never fills with them). The keys are hashes, taken as they are: a table of keys that are
// not (counters, ids) would cluster.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace covgate::model {

class key_table {
 public:
  /// A value no entry may have: what an empty slot holds.
  static constexpr std::uint32_t no_value = UINT32_MAX;

  /// The value of `key`, or no_value.
  [[nodiscard]] std::uint32_t find(std::uint32_t key) const noexcept {
    if (size_ == 0) return no_value;
    for (auto at = key & mask_;; at = (at + 1) & mask_) {
      const auto slot = slots_[at];
      if (value_of(slot) == no_value) return no_value;
      if (key_of(slot) == key) return value_of(slot);
    }
  }

  /// Adds `key` with `value` (not no_value) and says true, or says false and leaves the entry
  /// the key already has.
  bool insert(std::uint32_t key, std::uint32_t value) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    for (auto at = key & mask_;; at = (at + 1) & mask_) {
      auto& slot = slots_[at];
      if (value_of(slot) == no_value) {
        slot = slot_of(key, value);
        ++size_;
        return true;
      }
      if (key_of(slot) == key) return false;
    }
  }

  /// Removes `key`'s entry; false when it has none.
  bool erase(std::uint32_t key) noexcept {
    if (size_ == 0) return false;
    auto at = key & mask_;
    for (;; at = (at + 1) & mask_) {
      if (value_of(slots_[at]) == no_value) return false;
      if (key_of(slots_[at]) == key) break;
    }
    // Each entry after the hole, up to the next empty slot, moves back into it when the hole
    // lies between its home slot and where it sits (cyclically): it stays reachable from home.
    auto hole = at;
    for (auto next = (hole + 1) & mask_; value_of(slots_[next]) != no_value;
         next = (next + 1) & mask_) {
      const auto home = key_of(slots_[next]) & mask_;
      if (((next - home) & mask_) >= ((next - hole) & mask_)) {
        slots_[hole] = slots_[next];
        hole = next;
      }
    }
    slots_[hole] = empty_slot;
    --size_;
    return true;
  }

  /// Starts fetching the cache line `key`'s lookup reads first, and returns at once.
  void prefetch(std::uint32_t key) const noexcept {
#if defined(__GNUC__) || defined(__clang__)
    // Unconditional (a prefetch never faults, even of the null data of an empty table): GCC
    // 12 drops a prefetch it finds under a condition, as a statement of no effect.
    __builtin_prefetch(slots_.data() + (key & mask_));
#else
    (void)key;
#endif
  }

  /// Forgets every entry (the slots stay for what comes next).
  void clear() noexcept {
    slots_.assign(slots_.size(), empty_slot);
    size_ = 0;
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  static constexpr std::uint64_t empty_slot = std::uint64_t{no_value} << 32;
  static std::uint64_t slot_of(std::uint32_t key, std::uint32_t value) noexcept {
    return std::uint64_t{value} << 32 | key;
  }
  static std::uint32_t key_of(std::uint64_t slot) noexcept {
    return static_cast<std::uint32_t>(slot);
  }
  static std::uint32_t value_of(std::uint64_t slot) noexcept {
    return static_cast<std::uint32_t>(slot >> 32);
  }
  void grow() {
    std::vector<std::uint64_t> old(slots_.empty() ? 16 : slots_.size() * 2, empty_slot);
    old.swap(slots_);
    mask_ = static_cast<std::uint32_t>(slots_.size() - 1);
    for (const auto slot : old) {
      if (value_of(slot) == no_value) continue;
      auto at = key_of(slot) & mask_;
      while (value_of(slots_[at]) != no_value) at = (at + 1) & mask_;
      slots_[at] = slot;
    }
  }

  std::vector<std::uint64_t> slots_;
  std::uint32_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace covgate::model
