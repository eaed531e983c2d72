// A C ABI host pointed at a cluster (covgate.json "cluster": {"role": "front", …};
// docs/cluster.md §5i): the handle is a front of its own. Each message is routed by patient,
// published to CG_IN and answered by the workers that own its patients, as `covgate serve`
// in the front role answers it. The host's later answers are the releases on CG_OUT, taken
// through one durable consumer named after the host's id ("host|<worker_id>", as a front's
// receivers are) and handed to `take_later`, which keeps them in the handle's store until
// the host acknowledges them (covgate_ack). Trouble of that delivery goes to the handle's
// trouble_book (covgate_health).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "covgate/cluster/front.hpp"
#include "covgate/cluster/release_delivery.hpp"
#include "covgate/hosting/cluster_node.hpp"
#include "trouble_book.hpp"

namespace covgate::plugin {

/// The cluster did not take the message, or its answer did not come in time: nothing may
/// have been applied, or all of it; sending it again is harmless (covgate_submit's
/// COVGATE_E_UNAVAILABLE).
struct cluster_unavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class cluster_link {
 public:
  /// Connects, creates what is missing of the layout, starts the front and the delivery of
  /// later answers. `take_later` is called from the delivery thread with each release (its
  /// body in store::pack_later's form) and returns "" once it is kept, or why not (it is
  /// offered again after a pause). The delivery's trouble is noted in `troubles` (standing
  /// until the consumer answers again), which outlives this object. Throws
  /// std::runtime_error (a missing secret) or cluster::nats_error (the cluster refused).
  cluster_link(const server::server_config& config, const policy::policy_file& policy,
               const mapping::tables& tables,
               std::function<std::string(const store::outbox_item&)> take_later,
               trouble_book& troubles);
  ~cluster_link();  ///< stop()
  cluster_link(const cluster_link&) = delete;
  cluster_link& operator=(const cluster_link&) = delete;

  /// Waits for the answer (up to cluster.answer_timeout_ms, then the front's own deadline
  /// answers unavailable). Any thread; several at once.
  [[nodiscard]] cluster::front_answer submit(std::string message);

  /// Whether the connection to the cluster is up right now (it reconnects on its own).
  [[nodiscard]] bool connected() const noexcept { return node_.js.connected(); }

  /// Stops the delivery, then the front (messages still waiting are answered unavailable).
  void stop();

 private:
  hosting::front_node node_;
  std::optional<cluster::release_delivery> courier_;
};

/// The CG_OUT consumer's identity of the hosts with this id.
[[nodiscard]] std::string host_identity(std::string_view worker_id);

/// The wall clock in Unix milliseconds (the times covgate_health reports).
[[nodiscard]] std::int64_t unix_ms_now();

}  // namespace covgate::plugin
