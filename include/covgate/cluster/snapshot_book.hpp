// The latest snapshot of each partition, kept on stream CG_SNAP (docs/cluster.md §5j). A
// snapshot (store/partition_snapshot.hpp) may be far larger than a NATS message, so it is
// stored as chunks, one subject each ("cg.snap.<p>.<i>"), then a manifest ("cg.snap.<p>.m")
// naming the snapshot's id, position, chunk count, size and SHA-256. CG_SNAP keeps the newest
// message of a subject only, so a partition costs one snapshot's bytes (plus, while one is
// replaced, the chunks being written). A reader takes the manifest, then each chunk, and
// accepts the snapshot only when every chunk carries the manifest's id and the whole matches
// its size and digest: a snapshot being replaced meanwhile reads as none, never as a mixture.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "covgate/cluster/nats_client.hpp"

namespace covgate::cluster {

/// What a manifest says of a partition's snapshot.
struct snapshot_manifest {
  std::string id;  ///< 16 hex characters, new for every snapshot
  std::uint64_t stream_seq = 0;
  std::uint64_t epoch = 0;
  std::size_t chunks = 0;
  std::uint64_t bytes = 0;
  std::string sha256;  ///< 64 lowercase hex characters, of the whole snapshot
};

/// A snapshot read back whole.
struct stored_snapshot {
  snapshot_manifest manifest;
  std::string bytes;
};

class snapshot_book {
 public:
  /// `chunk_bytes`: the most a chunk carries (NATS refuses a message past the server's
  /// max_payload, 1 MB by default; headers take a few hundred bytes more).
  explicit snapshot_book(jetstream& js, std::size_t chunk_bytes = 512 * 1024);

  /// Stores `bytes` as `partition`'s snapshot at (`stream_seq`, `epoch`): its chunks, then its
  /// manifest, then removes the chunks of an earlier, longer snapshot past the new count.
  /// Returns the manifest. Throws nats_error when the cluster does not take it (a snapshot
  /// half written is never read: its chunks do not match the manifest before it).
  snapshot_manifest put(int partition, std::uint64_t stream_seq, std::uint64_t epoch,
                        std::string_view bytes);

  /// `partition`'s snapshot whole and checked, or nullopt when it has none, or the one there
  /// does not check out (being replaced, or damaged): a caller then rebuilds from the stream.
  /// Throws nats_error when the cluster does not answer.
  [[nodiscard]] std::optional<stored_snapshot> get(int partition);

  /// The manifest alone (for /metrics and tests), or nullopt.
  [[nodiscard]] std::optional<snapshot_manifest> manifest(int partition);

 private:
  jetstream& js_;
  std::size_t chunk_bytes_;
};

/// Most chunks a manifest may name (at 512 KiB each, 50 GiB): a larger count is refused as
/// damaged rather than read.
inline constexpr std::size_t max_snapshot_chunks = 100'000;

}  // namespace covgate::cluster
