// A key-value bucket in memory for the cluster's unit tests (tests/support is on the test
// include path).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "covgate/cluster/kv_bucket.hpp"
#include "covgate/cluster/nats_client.hpp"

namespace covgate::cluster {

// KV cg-owners / cg-workers in memory, with the revision rule of JetStream KV (one counter for
// the bucket) and compare-and-set; `fail_writes` makes every write fail as an unanswered one,
// `fail_reads` every get (counted in `reads_tried`), `fail_listing` every keys(),
// `write_delay` makes each failing write take that long first (a request waiting for its
// timeout), `writes_tried` counts the writes asked for, `before_next_write` runs once just
// before the next create or update (another worker's write landing between this one's read
// and its write), and `stale_once` answers a read with an older entry.
class memory_kv final : public kv_bucket {
 public:
  std::optional<kv_entry> get(const std::string& key) override {
    ++reads_tried;
    if (fail_reads) throw nats_error("read: timeout (test)", true);
    if (const auto stale = stale_once.find(key); stale != stale_once.end()) {
      auto entry = stale->second;
      stale_once.erase(stale);
      return entry;
    }
    const auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::uint64_t> create(const std::string& key, std::string_view value) override {
    check_writable();
    interleave();
    if (entries_.contains(key)) return std::nullopt;
    return write(key, value);
  }
  std::optional<std::uint64_t> update(const std::string& key, std::string_view value,
                                      std::uint64_t last) override {
    check_writable();
    interleave();
    const auto it = entries_.find(key);
    if (it == entries_.end() || it->second.revision != last) return std::nullopt;
    return write(key, value);
  }
  std::uint64_t put(const std::string& key, std::string_view value) override {
    check_writable();
    return write(key, value);
  }
  std::vector<std::string> keys() override {
    if (fail_listing) throw nats_error("list: timeout (test)", true);
    std::vector<std::string> out;
    for (const auto& [key, entry] : entries_) out.push_back(key);
    return out;
  }
  /// The latest entry, bypassing fail_reads and stale_once (the test's own look).
  std::optional<kv_entry> peek(const std::string& key) const {
    const auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  bool fail_writes = false;
  bool fail_reads = false;
  bool fail_listing = false;
  int reads_tried = 0;
  std::chrono::milliseconds write_delay{0};
  int writes_tried = 0;
  std::function<void()> before_next_write;
  /// Answered once by the next get of its key instead of the latest entry (a replica behind
  /// its stream's leader answering a read).
  std::map<std::string, kv_entry> stale_once;

 private:
  void interleave() {
    if (before_next_write) std::exchange(before_next_write, nullptr)();
  }
  void check_writable() {
    ++writes_tried;
    if (!fail_writes) return;
    std::this_thread::sleep_for(write_delay);
    throw nats_error("write: timeout (test)", true);
  }
  std::uint64_t write(const std::string& key, std::string_view value) {
    entries_[key] = kv_entry{std::string(value), ++revision_};
    return revision_;
  }
  std::map<std::string, kv_entry> entries_;
  std::uint64_t revision_ = 0;
};

}  // namespace covgate::cluster
