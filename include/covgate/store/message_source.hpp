// What a claim's event names as its `source`, and the journaled message it leads to.
//
//   "<channel>:<journal id>:<offset>"               serve (FHIR entries: "...:<id>#<entry>")
//   "nats.<partition>.<sequence>:<journal id>:..."  a cluster worker: the stream message too
//   "review:<who>"                                  a reviewer's action
//
// The journal id is the store's own number: it means nothing in another store, so a snapshot
// loaded elsewhere drops it (without_journal_id) and keeps the stream position, which names
// the same message in every store of a cluster.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace covgate::store {

/// The journal id a source names, or 0 (none: a review, a replayed file, a snapshot's row).
[[nodiscard]] std::int64_t journal_id_of(std::string_view source) noexcept;

/// The stream message a cluster worker's source names.
struct stream_origin {
  std::uint32_t partition = 0;
  std::uint64_t sequence = 0;
  friend bool operator==(const stream_origin&, const stream_origin&) = default;
};
/// The stream message of a "nats.<partition>.<sequence>:..." source; nullopt for any other.
[[nodiscard]] std::optional<stream_origin> stream_origin_of(std::string_view source) noexcept;

/// The channel part of the sources of the message at `origin`: "nats.<partition>.<sequence>".
[[nodiscard]] std::string stream_channel(stream_origin origin);

/// The peer a cluster worker journals the message at `origin` under: "part-<partition>:<sequence>"
/// (a front's GET /messages/{id} shows the same).
[[nodiscard]] std::string stream_peer(stream_origin origin);

/// `source` with its journal id replaced by 0 (no message of this store); a source that names
/// no journal id is returned as it is.
[[nodiscard]] std::string without_journal_id(std::string_view source);

}  // namespace covgate::store
