// The releases a receiver never took (dead letters), kept in KV cg-dead: every front that
// delivers to that receiver lists them, and any of them may deliver one again by hand
// (POST /outbox/{sequence}/retry on a front). A dead letter names the release by its CG_OUT
// sequence (the stream keeps the release itself) and the receiver by its consumer of CG_OUT
// (delivery_consumer), so the record holds no message content.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/cluster/kv_bucket.hpp"

namespace covgate::cluster {

struct dead_letter {
  std::string consumer;        ///< the receiver's consumer of CG_OUT ("out-<16 hex>")
  std::uint64_t sequence = 0;  ///< the release's CG_OUT sequence
  std::string key;             ///< its idempotency key (the 277's REF*1K)
  std::uint64_t attempts = 0;  ///< delivery attempts so far, the ones by hand included
  std::int64_t at_ms = 0;      ///< when the last attempt ended (Unix milliseconds)
  std::string error;           ///< why the last attempt failed ("" once delivered)
  bool delivered = false;      ///< delivered by hand since (kept for the record)
  friend bool operator==(const dead_letter&, const dead_letter&) = default;
};

/// The KV key of a dead letter: "<consumer>.<sequence, 20 digits>", so a consumer's keys sort
/// by sequence. Pure.
[[nodiscard]] std::string dead_letter_key(std::string_view consumer, std::uint64_t sequence);
/// The record as stored (JSON), and back; nullopt for anything this version did not write.
[[nodiscard]] std::string encode_dead_letter(const dead_letter& letter);
[[nodiscard]] std::optional<dead_letter> decode_dead_letter(std::string_view text);

/// The dead letters of a set of receivers, over KV cg-dead (any kv_bucket: tests use one in
/// memory). Every call is a KV request or a few; throws nats_error when the cluster does not
/// answer.
class dead_letter_book {
 public:
  explicit dead_letter_book(kv_bucket& bucket) : bucket_(bucket) {}

  /// Writes (or rewrites) `letter`.
  void record(const dead_letter& letter);
  [[nodiscard]] std::optional<dead_letter> find(std::string_view consumer, std::uint64_t sequence);
  /// The letters of `consumers` with a sequence above `after`, by sequence then consumer, at
  /// most `limit` and the other receivers' letters of the last sequence listed (a page never
  /// ends between two letters of one release); `delivered` picks those delivered by hand
  /// since (true) or those still dead (false), nullopt both.
  [[nodiscard]] std::vector<dead_letter> list(const std::vector<std::string>& consumers,
                                              std::optional<bool> delivered, std::uint64_t after,
                                              std::size_t limit);

 private:
  kv_bucket& bucket_;
};

}  // namespace covgate::cluster
