// Nine-digit control numbers (ISA13) that no two processes of a cluster hand out twice. A
// front numbers what it sends on (the interchanges it splits off a sender's, the answers it
// assembles from several workers) from a counter in KV: it takes a block of numbers at a time
// with a compare-and-set, so the bucket is written once per block, not once per message.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "covgate/cluster/kv_bucket.hpp"

namespace covgate::cluster {

/// Highest ISA13: after it the counter starts again at 1.
inline constexpr std::uint32_t max_control_number = 999'999'999;

class control_numbers {
 public:
  /// Numbers come from `key` of `bucket` (which outlives this object), `block` at a time. The
  /// key holds the first number of the next free block, as decimal text.
  control_numbers(kv_bucket& bucket, std::string key, std::uint32_t block = 1'000);

  /// The next number, as nine digits. Thread-safe. Takes a new block when the current one is
  /// used up (a read and a compare-and-set, repeated while other processes win the race).
  /// Throws nats_error when the bucket does not answer, and std::runtime_error when the key
  /// holds something that is not a number in range (an operator must look at it).
  [[nodiscard]] std::string next();

 private:
  void take_block();

  kv_bucket& bucket_;
  std::string key_;
  std::uint32_t block_;
  std::mutex mutex_;
  std::uint32_t next_ = 0;  // the next number of the block held; 0: none held
  std::uint32_t end_ = 0;   // one past the block's last number
};

}  // namespace covgate::cluster
