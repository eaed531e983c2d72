// Partition leases, the pure half: what a lease record says, when it has expired, how many
// partitions a worker may hold, and what one round of a worker's lease loop should do. No I/O
// and no clock: lease_manager.hpp feeds it what it read from KV cg-owners and the time, and
// carries out the steps against the KV bucket.
//
// The protocol (docs/cluster.md):
// - KV cg-owners holds one key per partition, "part-<n>", whose value is a lease_record.
//   Every write to it is a compare-and-set on the revision the writer last read, so two
//   workers can never both believe their write won.
// - Claiming writes a record with epoch 0, which means "the epoch is this entry's own
//   revision"; renewals carry that epoch explicitly. KV revisions only grow (they are the
//   bucket stream's sequence numbers), so every claim of a partition has a higher epoch than
//   any earlier claim of it: the fencing token a worker stores with each state change.
// - A lease has expired when its heartbeat is lease_ms old or older. Any worker may then
//   take it over (compare-and-set on the revision it read). A holder whose last successful
//   renewal is lease_ms - renew_ms old drops the partition on its own: one round period
//   before anyone else may take it over (the margin also absorbs clock skew up to renew_ms).
// - A worker holds at most ceil(partitions / live workers). When a worker joins, the others
//   release what they hold beyond their new share (record written with heartbeat 0, which
//   has expired for everyone), and the newcomer takes it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace covgate::cluster {

/// The value of a "part-<n>" key.
struct lease_record {
  std::string worker;             ///< the holder's worker id (subjects.hpp is_worker_id)
  std::uint64_t epoch = 0;        ///< 0: this entry's revision is the epoch (a fresh claim)
  std::int64_t heartbeat_ms = 0;  ///< the holder's clock at its last write; 0 = released
  friend bool operator==(const lease_record&, const lease_record&) = default;
};

/// {"worker":"w1","epoch":17,"hb":1700000000000}
[[nodiscard]] std::string encode_lease(const lease_record& record);
/// The record of encode_lease's text, or nullopt for anything else (another writer's format,
/// a worker id that is not one). plan_leases never takes over a key it cannot read.
[[nodiscard]] std::optional<lease_record> decode_lease(std::string_view text);

/// One "part-<n>" key as read: its record (nullopt when its value does not decode) and its
/// KV revision.
struct observed_lease {
  std::optional<lease_record> record;
  std::uint64_t revision = 0;
  /// The fencing token: record.epoch, or the revision for a fresh claim (epoch 0); 0 when the
  /// value does not decode.
  [[nodiscard]] std::uint64_t epoch() const noexcept {
    if (!record) return 0;
    return record->epoch != 0 ? record->epoch : revision;
  }
};

/// A partition this worker holds.
struct held_lease {
  std::uint64_t epoch = 0;         ///< its fencing token
  std::uint64_t revision = 0;      ///< the revision of our last write (the next CAS's base)
  std::int64_t renewed_at_ms = 0;  ///< our clock at our last successful write
};

struct lease_timing {
  std::int64_t lease_ms = 10'000;  ///< a heartbeat this old has expired
  std::int64_t renew_ms = 3'000;   ///< how often a holder renews (well under lease_ms)
};

/// True when a record written at `heartbeat_ms` has expired at `now_ms`.
[[nodiscard]] bool lease_expired(std::int64_t heartbeat_ms, std::int64_t now_ms,
                                 const lease_timing& timing) noexcept;

/// True when a holder whose last successful renewal was at `renewed_at_ms` must drop the
/// partition at `now_ms`: lease_ms - renew_ms after it, one round before anyone else may
/// take it over.
[[nodiscard]] bool holder_overdue(std::int64_t renewed_at_ms, std::int64_t now_ms,
                                  const lease_timing& timing) noexcept;

/// ceil(partitions / live_workers); live_workers below 1 counts as 1 (the caller itself).
[[nodiscard]] int fair_share(int partitions, int live_workers) noexcept;

/// One thing to do in a round. Steps on one partition never repeat within a round.
struct lease_step {
  enum class action {
    renew,      ///< CAS our record with a new heartbeat on `expected_revision`
    release,    ///< we hold more than our share: stop work on it, then CAS heartbeat 0
    drop,       ///< we lost it (someone else wrote, or our lease expired): stop at once
    create,     ///< the key is absent: create-if-absent, epoch = the new revision
    take_over,  ///< expired or released: CAS on `expected_revision`, epoch = the new revision
  };
  action what = action::renew;
  int partition = 0;
  std::uint64_t expected_revision = 0;  ///< for renew, release and take_over
  friend bool operator==(const lease_step&, const lease_step&) = default;
};

struct lease_round {
  std::string_view worker;  ///< who plans
  int partitions = 0;       ///< the cluster's partition count
  int live_workers = 1;     ///< workers whose presence is fresh, this one included
  std::int64_t now_ms = 0;
  lease_timing timing;
  /// What was read of each "part-<n>" key (index = partition; nullopt = absent). Shorter than
  /// `partitions` counts the missing ones as absent.
  std::vector<std::optional<observed_lease>> observed;
  /// What this worker believes it holds.
  std::map<int, held_lease> held;
};

/// The steps of one round, in this order: drops, releases and renewals of what we hold (in
/// partition order), then claims (creates and take-overs) up to our share, scanning from a
/// start partition derived from the worker id so that workers starting together try
/// different partitions first. A held partition is dropped when the key no longer carries our
/// last write (its revision differs, or it is absent) or when our own last renewal is
/// lease_ms - renew_ms old. Releases take the highest-numbered partitions we hold. Records that
/// cannot be decoded are never taken over (an operator's or a newer version's write; see
/// docs/cluster.md).
[[nodiscard]] std::vector<lease_step> plan_leases(const lease_round& round);

}  // namespace covgate::cluster
