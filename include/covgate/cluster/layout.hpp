// The JetStream objects a covgate cluster runs on, created in one call: stream CG_IN with one
// durable pull consumer per partition, streams CG_OUT, CG_REF, CG_WAIT and CG_SNAP, and the KV
// buckets cg-owners and cg-workers (docs/cluster.md §2 and §3). Every worker and front may call it
// at start-up: it is idempotent, and creating the consumers here, ahead of any subscription, is
// what keeps a durable from being deleted with the subscription that created it (nats.c 3.4.1).
#pragma once

#include <chrono>
#include <cstdint>

#include "covgate/cluster/nats_client.hpp"

namespace covgate::cluster {

struct cluster_layout {
  int partitions = 64;  ///< must equal the N of every node's mapping line; fixed for life
  int replicas = 3;     ///< streams, consumers and buckets (3 survives one node of three)
  std::chrono::seconds duplicate_window{7'200};  ///< Nats-Msg-Id de-duplication, both streams
  /// CG_IN retention by age; 0 leaves an existing stream's as it is (a new one keeps
  /// everything). Must reach well past each partition's latest snapshot (docs/cluster.md §5j).
  std::chrono::seconds in_max_age{0};
  /// CG_OUT retention by age, the same way; at least in_max_age (a release made again by a
  /// rebuild is refused only while the first copy is kept, §5d).
  std::chrono::seconds out_max_age{0};
  std::int64_t in_max_bytes = -1;              ///< -1: unlimited
  std::chrono::milliseconds ack_wait{30'000};  ///< redelivery of an unacknowledged message
  std::int64_t max_ack_pending = 256;          ///< per partition consumer
  std::chrono::seconds presence_ttl{3'600};    ///< cg-workers: a dead worker's key goes
  /// How long an operation on the lease buckets may retry (0: the connection's policy, about
  /// 9 s). A worker sets its renew_ms: a lease round that cannot reach the cluster gives up
  /// within about a round (plus the attempt under way) and tries again at the next, instead
  /// of retrying for a minute.
  std::chrono::milliseconds lease_retry_budget{0};
};

/// The lease buckets, opened.
struct lease_buckets {
  key_value owners;   ///< cg-owners
  key_value workers;  ///< cg-workers
};

/// Creates what is missing and updates the streams to `layout` (existing consumers and
/// buckets are left as they are). Throws std::invalid_argument for a partition count out of
/// range, and nats_error when the cluster refuses or does not answer.
lease_buckets ensure_layout(jetstream& js, const cluster_layout& layout);

}  // namespace covgate::cluster
