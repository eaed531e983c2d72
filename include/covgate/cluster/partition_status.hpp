// What /metrics says per partition (issue 18): who holds it, under which epoch, and how far
// its worker is behind. read_partition_status() reads it from the cluster (any worker or the
// front may ask); partition_metrics() turns it into Prometheus text, pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "covgate/cluster/kv_bucket.hpp"
#include "covgate/cluster/lease.hpp"
#include "covgate/cluster/nats_client.hpp"

namespace covgate::cluster {

struct partition_status {
  int partition = 0;
  std::string owner;             ///< the worker of a live lease; "" when none (absent, released,
                                 ///< expired or unreadable)
  std::uint64_t epoch = 0;       ///< the live lease's fencing epoch; 0 when none
  std::uint64_t lag = 0;         ///< messages of the partition not yet delivered to a worker
  std::int64_t ack_pending = 0;  ///< delivered, not yet acknowledged
};

/// Every partition's status at `now_ms`: its lease from `owners` (cg-owners), judged live by
/// `timing`, and its consumer's counts from CG_IN. Throws nats_error when the cluster does not
/// answer.
[[nodiscard]] std::vector<partition_status> read_partition_status(jetstream& js, kv_bucket& owners,
                                                                  int partitions,
                                                                  std::int64_t now_ms,
                                                                  const lease_timing& timing);

/// Prometheus text (HELP, TYPE and one sample per partition) for:
/// covgate_partition_lag{partition="n"}, covgate_partition_ack_pending{partition="n"},
/// covgate_partition_epoch{partition="n"} and covgate_partition_owned{partition="n",worker="w"}
/// (1; a partition without a live lease has owned 0 and worker ""). Worker ids need no
/// escaping (is_worker_id).
[[nodiscard]] std::string partition_metrics(const std::vector<partition_status>& partitions);

}  // namespace covgate::cluster
