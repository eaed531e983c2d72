// What every host of the cluster code reads from covgate.json's "cluster" (serve's worker and
// front, and the C ABI pointed at a cluster), and the part a front and a C ABI host share: a
// connection with the layout in place, the buckets a front writes, and the front itself
// (docs/cluster.md §5c).
#pragma once

#include <string>

#include "covgate/cluster/front.hpp"
#include "covgate/cluster/kv_bucket.hpp"
#include "covgate/cluster/layout.hpp"
#include "covgate/cluster/nats_client.hpp"
#include "covgate/server/config.hpp"

namespace covgate::hosting {

/// The servers, the client's name ("covgate-<worker_id>"), credentials (the password read
/// from its variable) and TLS files.
[[nodiscard]] cluster::connection_settings connection_of(const server::cluster_config& c);
[[nodiscard]] cluster::cluster_layout layout_of(const server::cluster_config& c);
/// The partition key secret from the variable cluster.key_secret_env names. Throws
/// std::runtime_error naming the variable when it is unset or empty.
[[nodiscard]] std::string key_secret_of(const server::cluster_config& c);
/// A front's settings: its id, the secret, the answer deadline, the readers' settings, and
/// whether its answers carry the decision lines (a C ABI host's do, serve's do not).
[[nodiscard]] cluster::front_settings front_settings_of(const server::server_config& c,
                                                        bool with_decisions = false);

/// A connected front: the secret read first (a missing one is said before any connection),
/// the streams, consumers and buckets created when missing, then the front's threads. Throws
/// std::runtime_error for a missing secret, cluster::nats_error when the cluster refuses.
struct front_node {
  front_node(const server::server_config& c, const policy::policy_file& policy,
             const mapping::tables& tables, bool with_decisions = false);

  cluster::front_settings settings;
  cluster::jetstream js;
  bool laid_out = false;           // ensure_layout ran: the front reads no lease itself
  cluster::key_value control;      // KV cg-control: the answers' control numbers
  cluster::key_value dead_bucket;  // KV cg-dead
  cluster::key_value identities;   // KV cg-ident (§4)
  cluster::front running;
};

}  // namespace covgate::hosting
