// covgate serve in a role of a NATS JetStream cluster (docs/cluster.md). A worker: the
// messages of the partitions this process holds go through the same durable gate as MLLP and
// HTTP messages, each with its stream position recorded in the transaction that applies it. A
// front: the listeners' messages go to the cluster instead of a local gate, and come back with
// the workers' answers.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "covgate/mapping/tables.hpp"
#include "covgate/policy/policy.hpp"
#include "covgate/server/config.hpp"
#include "covgate/server/durable_gate.hpp"
#include "covgate/server/metrics.hpp"

namespace covgate::app {

/// The worker running beside the listeners, from construction until stop() or destruction.
class cluster_worker final : public server::review_port {
 public:
  /// Connects to the cluster, creates what is missing of its layout and starts holding
  /// partitions. Throws std::runtime_error (naming the operation) when the cluster does not
  /// answer or refuses.
  cluster_worker(const server::cluster_config& config, server::durable_gate& gate);
  ~cluster_worker() override;
  cluster_worker(const cluster_worker&) = delete;
  cluster_worker& operator=(const cluster_worker&) = delete;

  /// Stops consuming (finishing the batch in hand) and hands the leases back; reviews still
  /// waiting for their partition's holder are answered unavailable.
  void stop();

  /// A reviewer's action, published to CG_IN under the claim's patient (the claim as this
  /// worker's store knows it) and answered with what the holder of that partition replies
  /// once the action is durable there (cluster::review_requester; docs/cluster.md §5e). A
  /// claim this worker never held is unknown_claim; no answer within answer_timeout_ms is
  /// unavailable. Thread-safe.
  void review(std::string_view claim_id, bool release, std::string_view who, std::string_view why,
              std::function<void(server::review_status)> done) override;

  /// Answers the cluster's claim lookups (a front's GET /claims/{id}; cluster::
  /// claim_lookup_responder) from now until stop(): with `claim_json(id)` when this worker
  /// holds the claim's partition now and has caught it up, else "not mine". Answers a front's
  /// GET /fhir/{type}/{id} the same way, from its store's facts. Call once.
  void answer_claim_lookups(
      std::function<std::optional<std::string>(std::string_view claim_id)> claim_json);

  /// Answers the cluster's worklist questions (a front's GET /queues, /charts, /claims and
  /// /changes, §5h) from now until stop(), for the partitions this worker holds now and has
  /// caught up; `version()` is the store's version for /changes. Call once.
  void answer_worklist(std::function<std::string()> version);
  /// Answers a front's GET /audit/csii (§5h) from now until stop(): `build(as_of)` is this
  /// store's whole audit; each partition this worker holds now and has caught up gets its
  /// patients' rows. Call once.
  void answer_audit(std::function<server::audit_report(const model::date& as_of)> build);

  /// Publishes one of the store's outbox items (a later answer) to stream CG_OUT
  /// (cluster::release_publisher): "" when CG_OUT holds it now or held it already, else why
  /// not, for the outbox to try again. Thread-safe. The delivery of the destination kind
  /// "cluster", the only destination a worker has.
  [[nodiscard]] std::string publish_release(const store::outbox_item& item);

  /// Prometheus text: what this worker holds (covgate_worker_partition_applied_total,
  /// covgate_worker_partition_caught_up) and every partition's owner, epoch and lag as the
  /// cluster says (cluster::partition_metrics; omitted, with covgate_cluster_up 0, when the
  /// cluster does not answer). Thread-safe.
  [[nodiscard]] std::string metrics_text();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The front: what the listeners receive is routed by patient to the workers
/// (cluster::front), from construction until stop() or destruction.
class cluster_front final : public server::message_port,
                            public server::outbox_port,
                            public server::claim_lookup_port,
                            public server::review_port {
 public:
  /// Connects, creates what is missing of the layout and starts the front. Throws
  /// std::runtime_error when the cluster does not answer or refuses, or when the variable
  /// named by key_secret_env is not set.
  /// With `destinations` (the configuration's outbox destinations), it also delivers the
  /// workers' releases from CG_OUT to them (cluster::release_delivery) with `deliver_one`,
  /// counting each attempt in `counters`.
  cluster_front(
      const server::server_config& config, const policy::policy_file& policy,
      const mapping::tables& tables, std::vector<server::destination_config> destinations,
      std::function<std::string(const server::destination_config&, const store::outbox_item&)>
          deliver_one,
      server::metrics& counters);
  ~cluster_front() override;
  cluster_front(const cluster_front&) = delete;
  cluster_front& operator=(const cluster_front&) = delete;

  void submit(std::string payload, std::string_view channel, std::string_view sender,
              completion done) override;

  /// Stops taking messages; those still waiting for workers are answered `unavailable`.
  void stop();

  // The operators' outbox routes on a front: the dead letters of its destinations (KV
  // cg-dead), each named by its release's CG_OUT sequence. A front queues nothing itself:
  // state "dead" lists those still dead, "delivered" those delivered by hand since, "pending"
  // nothing; a retry delivers the release once more, now, to each of this front's
  // destinations it is dead for.
  [[nodiscard]] std::vector<store::outbox_entry> outbox_entries(std::string_view state,
                                                                std::int64_t after_id,
                                                                std::size_t limit) override;
  [[nodiscard]] std::optional<store::outbox_entry> outbox_entry(std::int64_t id) override;
  void retry(std::int64_t id,
             std::function<void(std::optional<store::retry_result>)> done) override;
  [[nodiscard]] std::shared_ptr<const std::vector<server::destination_config>> destinations()
      override;

  /// GET /claims/{id} on a front: asked of every worker (cluster::look_up_claim), answered by
  /// the holder of the claim's partition; "no" once the workers that said it is not theirs
  /// have named every partition as held and caught up; unavailable when that did not happen
  /// within min(answer_timeout_ms, 5 s). Blocks the caller (an HTTP thread) that long at most.
  [[nodiscard]] std::pair<found, std::string> find_claim(std::string_view claim_id) override;

  /// GET /queues across the cluster (§5h): every worker's counts of the partitions it holds
  /// and has caught up, each partition taken once, added up; unavailable (naming the
  /// partitions) when the answers did not name every partition within min(answer_timeout_ms,
  /// 5 s). Blocks the caller that long at most.
  [[nodiscard]] std::pair<found, std::string> find_queues(std::int64_t now_ms,
                                                          std::int64_t released_window_ms) override;
  /// GET /charts across the cluster the same way (§5h).
  [[nodiscard]] std::pair<found, std::string> find_charts(std::int64_t now_ms, int days) override;
  [[nodiscard]] std::pair<found, std::string> find_audit(const model::date& as_of,
                                                         server::audit_format format) override;
  [[nodiscard]] std::pair<found, std::string> find_changes() override;
  [[nodiscard]] std::pair<found, std::string> find_list(const store::claim_query& query,
                                                        std::int64_t now_ms) override;
  /// GET /fhir/{type}/{id} on a front, asked as find_claim() asks (cluster::look_up_resource).
  [[nodiscard]] std::pair<found, std::string> find_resource(std::string_view type,
                                                            std::string_view id) override;
  /// GET /messages/{id} on a front: CG_IN's message at sequence `id` (the claims it answers
  /// name their messages so: §5g), read from the stream; no when the stream does not hold it
  /// (never, or gone by its retention) or it is not a message someone sent.
  [[nodiscard]] std::pair<found, std::string> find_message(std::int64_t id) override;
  /// GET /identities/waiting on a front: CG_WAIT's subjects counted, the oldest of each of
  /// the `limit` identities with the most messages read (cluster::waiting_on_identities).
  [[nodiscard]] std::pair<found, std::string> find_waiting(std::size_t limit,
                                                           std::int64_t now_ms) override;

  /// A reviewer's release or cancel posted to a front: the claim is looked up as find_claim()
  /// does, on one of eight lookup threads in turn (a bulk action's claims side by side, the
  /// caller never held), then the action is published on the claim's patient's subject and
  /// answered with what the partition's holder replies (cluster::review_requester, as a
  /// worker does).
  void review(std::string_view claim_id, bool release, std::string_view who, std::string_view why,
              std::function<void(server::review_status)> done) override;

  /// Prometheus text: covgate_front_* counters. Thread-safe.
  [[nodiscard]] std::string metrics_text() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace covgate::app
