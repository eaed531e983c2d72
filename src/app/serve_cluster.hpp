// covgate serve in the worker role of a NATS JetStream cluster (docs/cluster.md): the
// messages of the partitions this process holds go through the same durable gate as MLLP and
// HTTP messages, each with its stream position recorded in the transaction that applies it.
#pragma once

#include <memory>
#include <string>

#include "covgate/server/config.hpp"
#include "covgate/server/durable_gate.hpp"

namespace covgate::app {

/// The worker running beside the listeners, from construction until stop() or destruction.
class cluster_worker {
 public:
  /// Connects to the cluster, creates what is missing of its layout and starts holding
  /// partitions. Throws std::runtime_error (naming the operation) when the cluster does not
  /// answer or refuses.
  cluster_worker(const server::cluster_config& config, server::durable_gate& gate);
  ~cluster_worker();
  cluster_worker(const cluster_worker&) = delete;
  cluster_worker& operator=(const cluster_worker&) = delete;

  /// Stops consuming (finishing the batch in hand) and hands the leases back.
  void stop();

  /// Prometheus text: what this worker holds (covgate_worker_partition_applied_total,
  /// covgate_worker_partition_caught_up) and every partition's owner, epoch and lag as the
  /// cluster says (cluster::partition_metrics; omitted, with covgate_cluster_up 0, when the
  /// cluster does not answer). Thread-safe.
  [[nodiscard]] std::string metrics_text();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace covgate::app
