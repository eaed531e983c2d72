// What went wrong in a C ABI handle, for covgate_health: how often, the last time and what,
// and whether it still stands. The library has no log of its own, and the trouble of a
// cluster handle's background delivery (an election, a lost node, a store that cannot keep
// a release) happens on a thread the host never calls into: this is where the host finds it.
// Texts name settings, subjects and sequences, never message content. Any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace covgate::plugin {

class trouble_book {
 public:
  /// What a trouble stops until it is over; `passing` troubles are only counted.
  enum class standing : unsigned { passing = 0, delivery = 1, keeping = 2 };

  struct summary {
    std::uint64_t count = 0;        ///< trouble noted since the handle was opened
    std::int64_t last_unix_ms = 0;  ///< when the last was noted; 0: never
    std::string last;               ///< what it was
    bool standing = false;          ///< some standing trouble has not been cleared since
  };

  /// Notes a trouble. A standing one lasts until clear(that kind): the delivery of later
  /// answers stopped (until the consumer answers again), or a release the store could not
  /// keep (until one is kept). Two kinds, so that one's end does not hide the other.
  void note(std::string what, std::int64_t unix_ms, standing kind) {
    std::lock_guard lock(mutex_);
    ++state_.count;
    state_.last_unix_ms = unix_ms;
    state_.last = std::move(what);
    standing_ |= static_cast<unsigned>(kind);
  }

  /// That kind of trouble is over.
  void clear(standing kind) {
    std::lock_guard lock(mutex_);
    standing_ &= ~static_cast<unsigned>(kind);
  }

  [[nodiscard]] summary read() const {
    std::lock_guard lock(mutex_);
    auto out = state_;
    out.standing = standing_ != 0;
    return out;
  }

 private:
  mutable std::mutex mutex_;
  summary state_;
  unsigned standing_ = 0;  // bits of the standing kinds noted and not cleared
};

}  // namespace covgate::plugin
