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
  struct summary {
    std::uint64_t count = 0;        ///< trouble noted since the handle was opened
    std::int64_t last_unix_ms = 0;  ///< when the last was noted; 0: never
    std::string last;               ///< what it was
    bool standing = false;          ///< a standing trouble has not been cleared since
  };

  /// Notes a trouble. A standing one (the delivery of later answers stopped) lasts until
  /// clear_standing(); a passing one (a message not answered in time) is only counted.
  void note(std::string what, std::int64_t unix_ms, bool standing) {
    std::lock_guard lock(mutex_);
    ++state_.count;
    state_.last_unix_ms = unix_ms;
    state_.last = std::move(what);
    if (standing) state_.standing = true;
  }

  /// What stood is over (a release delivered, the consumer answering again).
  void clear_standing() {
    std::lock_guard lock(mutex_);
    state_.standing = false;
  }

  [[nodiscard]] summary read() const {
    std::lock_guard lock(mutex_);
    return state_;
  }

 private:
  mutable std::mutex mutex_;
  summary state_;
};

}  // namespace covgate::plugin
