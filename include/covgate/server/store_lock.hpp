// One process per store directory: `covgate serve` and `covgate replay --store` take an
// exclusive lock on DIR/covgate.lock (flock, holding the owner's pid) before they open the
// store, so a second one refuses to start instead of sharing the database behind the first
// one's back (its in-memory gate and counters would go stale). The kernel releases the lock
// when the process ends, however it ends (kill -9 included): no stale lock to clean up.
#pragma once

#include <filesystem>

namespace covgate::server {

class store_lock {
 public:
  /// Locks `directory` (created when missing); nothing for "" or ":memory:" (nothing shared).
  /// Throws std::runtime_error naming the directory and, when known, the pid that holds it.
  explicit store_lock(const std::filesystem::path& directory);
  ~store_lock();
  store_lock(const store_lock&) = delete;
  store_lock& operator=(const store_lock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace covgate::server
