// Partition leases, the I/O half: one worker's lease loop against KV cg-owners (the leases)
// and KV cg-workers (who is alive), driving the pure plan of lease.hpp. The caller owns the
// clock and the thread: it calls round(now) every timing.renew_ms and starts or stops the
// work on a partition when told through the callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "covgate/cluster/kv_bucket.hpp"
#include "covgate/cluster/lease.hpp"
#include "covgate/cluster/nats_client.hpp"

namespace covgate::cluster {

struct lease_manager_settings {
  std::string worker;  ///< this worker's id (is_worker_id)
  int partitions = 0;  ///< the cluster's partition count
  lease_timing timing;
};

/// Called when this worker gains a partition (start consuming it, fencing with `epoch`) or
/// loses it (stop at once: another worker may already hold it with a higher epoch).
struct lease_callbacks {
  std::function<void(int partition, std::uint64_t epoch)> acquired;
  std::function<void(int partition, std::uint64_t epoch)> lost;
};

/// What one round did.
struct lease_round_report {
  int live_workers = 0;
  int acquired = 0;
  int renewed = 0;
  int released = 0;
  int lost = 0;              ///< dropped: taken over, or not renewed in time
  int failures = 0;          ///< reads and writes the cluster did not answer through the retries
  std::string last_failure;  ///< the last such failure's text ("" when none)
};

/// The workers whose presence in `workers` (KV cg-workers) is fresh at `now_ms` (younger than
/// timing.lease_ms), in key order. A few KV reads (one listing, one read per worker); throws
/// nats_error when the cluster does not answer.
[[nodiscard]] std::vector<std::string> live_workers(kv_bucket& workers, std::int64_t now_ms,
                                                    const lease_timing& timing);

/// Not thread-safe: one thread calls round() and release_all(); the callbacks run on it.
class lease_manager {
 public:
  /// `owners` (cg-owners) and `workers` (cg-workers) must outlive the manager. Throws
  /// std::invalid_argument for a worker id that is not one, a partition count out of range, or
  /// renew_ms not below lease_ms.
  lease_manager(kv_bucket& owners, kv_bucket& workers, lease_manager_settings settings,
                lease_callbacks callbacks);

  /// One round at `now_ms` (ms since the epoch, this worker's clock): writes this worker's
  /// presence, reads the presence of the others and every partition's lease, then drops,
  /// releases, renews and claims as plan_leases() says. A request the cluster does not answer
  /// is counted in the report and the round goes on: without a live-worker count it plans as
  /// if alone (renews all it holds, releases nothing, claims only absent or expired leases),
  /// a lease not read is renewed if held (by compare-and-set on our last revision) and never
  /// claimed. Held leases that cannot be renewed are dropped once overdue.
  lease_round_report round(std::int64_t now_ms);

  /// Stops work on every held partition (callbacks.lost) and marks each released, so that
  /// others need not wait for the lease to expire. Failed writes are ignored (the lease then
  /// expires as if the worker had died), and no write starts once `budget` has passed: a
  /// worker stopping while the cluster is out of reach stops within about that (plus one
  /// write's own timeout) instead of trying every lease through every retry.
  void release_all(std::chrono::milliseconds budget);

  /// The epoch to commit partition `partition`'s work under at `now_ms`, or nullopt when this
  /// worker does not hold it or its last successful renewal is lease_ms - renew_ms old (the
  /// point at which round() would drop it): checked before every commit, so that a worker
  /// that stalled past its lease commits nothing before its next round notices.
  [[nodiscard]] std::optional<std::uint64_t> valid_epoch(int partition,
                                                         std::int64_t now_ms) const noexcept;

  /// What this worker holds now (partition → lease).
  [[nodiscard]] const std::map<int, held_lease>& held() const noexcept { return held_; }

 private:
  void lose(int partition);

  kv_bucket& owners_;
  kv_bucket& workers_;
  lease_manager_settings settings_;
  lease_callbacks callbacks_;
  std::map<int, held_lease> held_;
};

}  // namespace covgate::cluster
