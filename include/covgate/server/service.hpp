// What the listeners of `covgate serve` talk to: the durable gate (messages, reviews, the
// outbox), the claims read model and the metrics, built from one configuration.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "covgate/server/claims_view.hpp"
#include "covgate/server/config.hpp"
#include "covgate/server/durable_gate.hpp"
#include "covgate/server/metrics.hpp"

namespace covgate::server {

class service {
 public:
  /// Opens the store and recovers (see durable_gate). Throws like it.
  service(const server_config& config, const policy::policy_file& policy,
          const mapping::tables& tables)
      : gate_(config, policy, tables, metrics_),
        claims_(gate_, policy, tables),
        policy_(policy),
        tables_(tables) {}

  [[nodiscard]] const server_config& config() const noexcept { return gate_.config(); }
  [[nodiscard]] durable_gate& gate() noexcept { return gate_; }
  /// Where the listeners hand messages: the gate, unless set_message_port() named another.
  [[nodiscard]] message_port& messages() noexcept { return port_ != nullptr ? *port_ : gate_; }
  /// Sends messages to `port` (a cluster front) instead of the gate. Set it before the
  /// listeners run; `port` outlives them.
  void set_message_port(message_port& port) noexcept { port_ = &port; }
  /// Where the HTTP API hands reviewers' actions: the gate, unless set_review_port() named
  /// another.
  [[nodiscard]] review_port& reviews() noexcept { return reviews_ != nullptr ? *reviews_ : gate_; }
  /// Sends reviewers' actions to `port` (a cluster worker, which publishes them to the
  /// claim's partition) instead of the gate. Set it before the listeners run; `port` outlives
  /// them.
  void set_review_port(review_port& port) noexcept { reviews_ = &port; }
  /// Where the operators' outbox routes read and act: the gate's outbox, unless
  /// set_outbox_port() named another (a cluster front: its dead letters). Set it before the
  /// listeners run; `port` outlives them.
  [[nodiscard]] outbox_port& outbox() noexcept { return outbox_ != nullptr ? *outbox_ : gate_; }
  void set_outbox_port(outbox_port& port) noexcept { outbox_ = &port; }
  /// Where GET /claims/{id} looks when not in this process's claims view (a cluster front:
  /// the workers), or null. Set it before the listeners run; `port` outlives them.
  [[nodiscard]] claim_lookup_port* claim_lookup() noexcept { return lookup_; }
  void set_claim_lookup(claim_lookup_port& port) noexcept { lookup_ = &port; }
  [[nodiscard]] claims_view& claims() noexcept { return claims_; }
  [[nodiscard]] metrics& counters() noexcept { return metrics_; }
  [[nodiscard]] const policy::policy_file& policy() const noexcept { return policy_; }
  [[nodiscard]] const mapping::tables& tables() const noexcept { return tables_; }

  /// GET /readyz: the store is open and recovered (this object exists and its gate is
  /// healthy), the listeners are bound (serve calls set_listening(true) once they are) and
  /// the server is not stopping (set_listening(false) when it starts to drain).
  void set_listening(bool listening) noexcept { listening_ = listening; }
  [[nodiscard]] bool listening() const noexcept { return listening_; }

  /// GET /metrics: the counters with the gate's and the store's gauges sampled now, then the
  /// text of the extra source, if any.
  [[nodiscard]] std::string metrics_text() {
    metrics::gauges g;
    gate_.sample(g);
    auto text = metrics_.text(g);
    if (extra_metrics_) text += extra_metrics_();
    return text;
  }
  /// Prometheus text from a part of the process the server does not know (the cluster worker:
  /// its partitions), appended to /metrics. Set it before the listeners run; it is called from
  /// their threads.
  void set_extra_metrics(std::function<std::string()> source) {
    extra_metrics_ = std::move(source);
  }

 private:
  metrics metrics_;  // first: the gate counts into it
  durable_gate gate_;
  claims_view claims_;
  std::atomic<bool> listening_{false};
  std::function<std::string()> extra_metrics_;
  message_port* port_ = nullptr;
  review_port* reviews_ = nullptr;
  outbox_port* outbox_ = nullptr;
  claim_lookup_port* lookup_ = nullptr;
  const policy::policy_file& policy_;
  const mapping::tables& tables_;
};

}  // namespace covgate::server
