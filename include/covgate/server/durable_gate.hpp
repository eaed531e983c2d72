// The gate made durable: the engine's intake over the SQLite state, with every message
// journaled and processed inside the open transaction, and its answer released only after
// that transaction commits, so an answered message is never lost. Later events (a late lab
// releasing a claim held earlier) go to the outbox in the same transaction. Commits are
// grouped: a committer thread commits whatever messages arrived while the previous commit
// ran (under load it lets a group grow while messages keep arriving, at most 150 us), so
// durability costs one commit per group, not per message. The listeners' messages are queued
// to one processing thread, which takes them in batches: a listener never waits for the
// gate's lock. Recovery at start-up: the claims are in the store; the facts come back from it
// into the gate's index.
// Thread-safe: every public member may be called from any thread (one lock serializes the
// engine, which is also what SQLite wants), but the members that wait for a commit (handle,
// review, load_snapshot, replace_partition, advance_position, prune) never from a completion.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "covgate/engine/intake.hpp"
#include "covgate/server/audit.hpp"
#include "covgate/server/config.hpp"
#include "covgate/server/metrics.hpp"
#include "covgate/store/sqlite_store.hpp"

namespace covgate::server {

struct reply {
  engine::payload_kind kind = engine::payload_kind::unknown;
  std::string body;               ///< the whole answer
  std::vector<std::string> acks;  ///< HL7 v2: each ACK by itself (MLLP frames each)
  std::string_view content_type;
  bool rejected = false;      ///< all or part of the message was refused (its answer says why)
  bool unrecognized = false;  ///< not X12, FHIR or HL7 v2: nothing was processed
  /// Refused before anything was processed, as sent (a cluster front that cannot route it):
  /// `problem` says why, and sending it again unchanged will not help.
  bool refused = false;
  /// Why the message was not taken (refused, or not durable), for the sender; no data values.
  /// "" leaves the listener's own words.
  std::string problem;
  bool durable = true;  ///< false: the store failed; the message must not be acknowledged
  std::uint32_t claims = 0;
  std::uint32_t facts = 0;
  std::int64_t journal_id = 0;
  std::uint32_t repeated_interchanges = 0;  ///< answered as in an earlier message
  /// What the message's claims came to (accepted: no claim answered).
  engine::disposition disposition = engine::disposition::accepted;
  /// The decision lines of the message's events (model::append_json, one per line; repeats
  /// left out), when its position asked for them (stream_position::with_decisions), else "".
  std::string decisions;
  /// A stream message (submit_from_stream): apply when it was processed; already_applied or
  /// stale_epoch when it was not (nothing was journaled or changed, and body is empty).
  store::apply_verdict verdict = store::apply_verdict::apply;
};

/// Where a cluster worker's message came from: partition `partition` of the inbound stream,
/// stream sequence `sequence`, fetched under lease `epoch` (docs/cluster.md §3 and §5).
struct stream_position {
  std::uint32_t partition = 0;
  std::uint64_t sequence = 0;
  std::uint64_t epoch = 0;
  /// When the stream stored the message (Unix ms): its time, instead of the clock's, so that
  /// every worker that applies it (a rebuild) dates it the same. 0: the clock's.
  std::int64_t stored_ms = 0;
  /// Its sender wants the events' decision lines (reply::decisions): a C ABI host's front.
  bool with_decisions = false;
};

/// What became of a message, for log lines: "accepted", "rejected" (refused whole),
/// "partly-rejected", "unrecognized" or "unavailable" (the store failed: not acknowledged).
[[nodiscard]] std::string_view outcome_name(const reply& r) noexcept;

enum class review_status : std::uint8_t {
  done,
  unknown_claim,
  already_closed,
  not_reviewable,
  unavailable,
  ambiguous,  ///< a CLM01 several billing providers sent, named without its billing NPI
};

/// Where the listeners hand each message: the durable gate of this process, or a cluster front
/// that sends it on (service::set_message_port).
class message_port {
 public:
  virtual ~message_port() = default;
  using completion = std::function<void(reply)>;
  /// One whole message from `channel` ("mllp", "http") and `sender` (a peer address), handed
  /// over (the port keeps it until it is processed: a caller moves what it no longer needs);
  /// `done` is called once, from any thread, with its answer. Post to your own executor.
  virtual void submit(std::string payload, std::string_view channel, std::string_view sender,
                      completion done) = 0;
};

/// Where the HTTP API hands a reviewer's release or cancel: the durable gate of this process,
/// or a cluster worker that publishes it to the claim's partition (service::set_review_port).
class review_port {
 public:
  virtual ~review_port() = default;
  /// The action on `claim_id` by `who` because `why`; `done` is called once, from any thread,
  /// when it is durable (or with why not). Post to your own executor.
  virtual void review(std::string_view claim_id, bool release, std::string_view who,
                      std::string_view why, std::function<void(review_status)> done) = 0;
};

/// What the operators' outbox routes (GET /outbox, GET /outbox/{id}, POST /outbox/{id}/retry)
/// read and act on: this process's store outbox (the durable gate), or a cluster front's dead
/// letters (service::set_outbox_port).
class outbox_port {
 public:
  virtual ~outbox_port() = default;
  /// Items in `state` ("" any, "pending", "delivered", "dead") with an id above `after_id`,
  /// by id, at most `limit`.
  [[nodiscard]] virtual std::vector<store::outbox_entry> outbox_entries(std::string_view state,
                                                                        std::int64_t after_id,
                                                                        std::size_t limit) = 0;
  [[nodiscard]] virtual std::optional<store::outbox_entry> outbox_entry(std::int64_t id) = 0;
  /// A dead item tried again; `done` once, from any thread, with nullopt when the store (or
  /// the cluster) did not answer.
  virtual void retry(std::int64_t id,
                     std::function<void(std::optional<store::retry_result>)> done) = 0;
  /// The destinations an item's position names.
  [[nodiscard]] virtual std::shared_ptr<const std::vector<destination_config>> destinations() = 0;
};

/// Where GET /claims/{id} finds a claim, GET /claims its lists, and GET /queues and /charts
/// their counts, when this
/// process's store is not the place (a cluster
/// front, which keeps nothing: it asks the workers; service::set_claim_lookup).
class claim_lookup_port {
 public:
  /// gone: a FHIR resource that was there and was entered in error (find_resource only).
  /// ambiguous: a CLM01 several billing providers' claims have (find_claim only; the text
  /// lists their NPIs).
  enum class found : std::uint8_t { yes, no, unavailable, gone, ambiguous };
  virtual ~claim_lookup_port() = default;
  /// The claim as GET /claims/{id} answers it (yes), no one has it (no), or the answer is not
  /// known now (unavailable, with why in the text). May block the caller up to its own
  /// deadline. Thread-safe.
  [[nodiscard]] virtual std::pair<found, std::string> find_claim(std::string_view claim_id) = 0;
  /// GET /queues as the whole cluster counts it at `now_ms` (yes, with the answer), or why not
  /// now (unavailable). May block the caller up to its own deadline. Thread-safe.
  [[nodiscard]] virtual std::pair<found, std::string> find_queues(
      std::int64_t now_ms, std::int64_t released_window_ms) = 0;
  /// GET /charts the same way.
  [[nodiscard]] virtual std::pair<found, std::string> find_charts(std::int64_t now_ms,
                                                                  int days) = 0;
  /// GET /changes the same way: a version that moves whenever a claim of the cluster does.
  [[nodiscard]] virtual std::pair<found, std::string> find_changes() = 0;
  /// GET /claims (a page of a list) the same way, for a query already read.
  [[nodiscard]] virtual std::pair<found, std::string> find_list(const store::claim_query& query,
                                                                std::int64_t now_ms) = 0;
  /// GET /fhir/{type}/{id} the same way: the facts kept of the resource as FHIR JSON (yes),
  /// retracted (gone), none (no), or why not now (unavailable). The type and id are valid.
  [[nodiscard]] virtual std::pair<found, std::string> find_resource(std::string_view type,
                                                                    std::string_view id) = 0;
  /// GET /audit/csii the same way: the whole cluster's audit on `as_of`, written in `format`
  /// (yes), or why not now (unavailable).
  [[nodiscard]] virtual std::pair<found, std::string> find_audit(const model::date& as_of,
                                                                 audit_format format) = 0;
  /// GET /messages/{id} the same way, `id` naming a message as the claims found here name
  /// them (a front: the stream sequence that carried it): the message as JSON (yes), none
  /// (no: unknown, or gone by retention), or why not now (unavailable).
  [[nodiscard]] virtual std::pair<found, std::string> find_message(std::int64_t id) = 0;
  /// GET /identities/waiting: what waits for an identity to be linked, the `limit`
  /// identities with the most messages listed (yes), or why not now (unavailable).
  [[nodiscard]] virtual std::pair<found, std::string> find_waiting(std::size_t limit,
                                                                   std::int64_t now_ms) = 0;
};

/// The most identities GET /identities/waiting lists (each costs the front a read).
inline constexpr std::size_t max_waiting_listed = 1000;

/// A reviewer's action taken from a cluster's stream: what became of it, and whether it was
/// applied at all (apply_verdict, as for a message).
struct stream_review_result {
  store::apply_verdict verdict = store::apply_verdict::apply;
  review_status status = review_status::unavailable;  ///< unavailable: not durable
};

/// The settings of the engine's intake that a configuration gives (readers, 277 profile,
/// sender ids, repeated interchanges).
[[nodiscard]] engine::intake_settings intake_settings_of(const server_config& c);

class durable_gate final : public message_port, public review_port, public outbox_port {
 public:
  /// Opens the store and recovers. Throws store::store_error, or std::runtime_error when the
  /// stored facts do not decode.
  durable_gate(const server_config& config, const policy::policy_file& policy,
               const mapping::tables& tables, metrics& counters);
  durable_gate(const durable_gate&) = delete;
  durable_gate& operator=(const durable_gate&) = delete;
  ~durable_gate() override;  ///< shutdown()

  /// One whole message from `channel` ("mllp", "http") and `sender` (a peer address). It is
  /// queued: the gate's processing thread processes the listeners' messages in
  /// submission order, in batches, and `done` is called once its transaction committed (or
  /// failed: durable is false then), from the committer thread, in submission order. Post to
  /// your own executor.
  void submit(std::string payload, std::string_view channel, std::string_view sender,
              completion done) override;
  /// A cluster worker's message, processed now (on the caller's thread, so that it and the
  /// partition's other stream actions keep their stream order), with the stream's bookkeeping
  /// in the same transaction (sqlite_store::record_applied): a sequence at or below the partition's
  /// recorded one (a redelivery after a crash between commit and ack) and a message under an
  /// older lease epoch than the recorded one (this worker was fenced off) are not processed,
  /// and their reply says so in `verdict`. Journaled with channel "nats" and sender
  /// "part-<n>:<sequence>". The caller submits a partition's messages in stream order and
  /// stops the partition at the first reply that is not durable or is stale_epoch.
  void submit_from_stream(std::string_view payload, stream_position position, completion done);
  /// submit() and wait for the answer (tests, simple callers).
  [[nodiscard]] reply handle(std::string_view payload, std::string_view channel,
                             std::string_view sender);

  /// A reviewer's release or cancel, recorded with who and why; `done` runs after commit.
  void review(std::string_view claim_id, bool release, std::string_view who, std::string_view why,
              std::function<void(review_status)> done) override;
  /// A reviewer's action from a cluster's stream (docs/cluster.md §5e), applied at `at_ms`
  /// (when the reviewer acted, so that a rebuild applies it the same) with the stream's
  /// bookkeeping in the same transaction, like submit_from_stream: a redelivery or a message
  /// under an older lease epoch changes nothing and says so in `verdict`.
  void review_from_stream(std::string_view claim_id, bool release, std::string_view who,
                          std::string_view why, std::int64_t at_ms, stream_position position,
                          std::function<void(stream_review_result)> done);
  [[nodiscard]] review_status review(std::string_view claim_id, bool release, std::string_view who,
                                     std::string_view why);

  /// Loads a cluster partition's snapshot (store::sqlite_store::load_snapshot) into the store
  /// and the engine (its facts into the index, its open claims into the counts) in the gate's
  /// next commit, and waits for that commit. `durable` false: not loaded (the gate is
  /// unhealthy or stopping, the commit failed, or the load threw: its rows were undone and
  /// `error` says why); else the store's verdict.
  struct snapshot_result {
    bool durable = false;
    store::snapshot_load load;
  };
  [[nodiscard]] snapshot_result load_snapshot(std::string_view bytes);
  /// A stale copy of the snapshot's partition replaced by it (sqlite_store::replace_partition,
  /// `mine` telling the partition's patients), in the gate's next commit, waited for. The
  /// engine uncounts the copy's open claims, forgets each resource whose facts row the copy
  /// held and indexes the snapshot's (docs/cluster.md §5j gives the cost).
  /// Results as load_snapshot(); nothing changed unless `load.verdict` is loaded.
  [[nodiscard]] snapshot_result replace_partition(
      std::string_view bytes, const std::function<bool(std::string_view patient_key)>& mine);
  /// A cluster worker's position for `partition` moved to `stream_seq` with no message (every
  /// message of the partition up to it is applied here; cluster::message_applier::advance), in
  /// the next commit, and waited for. True when it moved and is durable; false when the store
  /// stands there or past it, recorded a newer epoch, or failed.
  [[nodiscard]] bool advance_position(std::uint32_t partition, std::uint64_t stream_seq,
                                      std::uint64_t epoch);

  /// Runs `read` with the store's last committed state (the read models). With a store on
  /// disk it reads through a read-only connection of its own and never waits for the gate:
  /// a message that keeps the gate busy (a fact re-evaluating thousands of holds) does not
  /// delay GET /claims. An in-memory store has one connection: reads take the gate's lock.
  void read(const std::function<void(const store::sqlite_store&)>& read);
  /// Runs `read` with the store's last committed state and the engine, whose facts
  /// (intake::patient_context, the only member `read` may call) are the ones indexed so far:
  /// the claim detail's evidence and the audit. With a store on disk it does not wait for the
  /// gate, like read(); an in-memory store takes the gate's lock.
  void inspect(const std::function<void(const store::sqlite_store&, const engine::intake&)>& read);

  // The outbox, for the delivery worker. A store error in these is a store failure (never
  // thrown); once the store failed they deliver, mark and delete nothing (empty, false).
  [[nodiscard]] std::vector<store::outbox_item> due(std::size_t limit);
  void delivered(const store::outbox_item& item);
  /// Records a failed attempt (retried with backoff); true when the item is now dead.
  bool failed(const store::outbox_item& item, std::string_view error);
  [[nodiscard]] std::optional<std::int64_t> next_due();
  /// The destinations later events are queued for now (an item names one by its position).
  [[nodiscard]] std::shared_ptr<const std::vector<destination_config>> destinations() override;
  /// Replaces the destinations (SIGHUP): items queued from now on go to the new list; queued
  /// items keep their position in it (an item whose position no longer exists fails).
  void set_destinations(std::vector<destination_config> destinations);

  // The outbox, for operators (GET /outbox, POST /outbox/{id}/retry).
  [[nodiscard]] std::vector<store::outbox_entry> outbox_entries(std::string_view state,
                                                                std::int64_t after_id,
                                                                std::size_t limit) override;
  [[nodiscard]] std::optional<store::outbox_entry> outbox_entry(std::int64_t id) override;
  /// A dead item made pending again (due now, attempts from 0); `done` runs after its
  /// transaction committed, with nullopt when the store failed (or the gate is stopping).
  void retry(std::int64_t id,
             std::function<void(std::optional<store::retry_result>)> done) override;

  struct retention_result {
    std::uint64_t messages = 0;         ///< journal rows deleted
    std::uint64_t delivered_items = 0;  ///< delivered outbox items deleted
  };
  /// Applies the journal's retention (age, size) and the outbox's: delivered items older than
  /// outbox.delivered_max_age, delivered_pruned_per_batch at a time, each batch in the next
  /// commit and waited for (messages are processed between batches), no further batch once
  /// `stop` is requested. Returns what it deleted (the delivered items committed; the journal's
  /// rows go in whatever group is open, or at once). Call it from a thread of its own, never
  /// from a completion (the committer's thread, which it waits for).
  retention_result prune(std::stop_token stop = {});
  /// The most delivered outbox items one batch deletes (a few ms of the gate's lock).
  static constexpr std::size_t delivered_pruned_per_batch = 250;

  /// Commits what is pending (answering it) and stops the committer and checkpointer;
  /// submit() refuses from then on. Call it while the executors that answers are posted to
  /// still exist. Idempotent.
  void shutdown();

  /// False once the store failed: nothing more is accepted until a restart.
  [[nodiscard]] bool healthy() const noexcept { return healthy_; }
  [[nodiscard]] const server_config& config() const noexcept { return config_; }
  /// The gate's counts (open claims by outcome and reason) and the store's sizes, for metrics,
  /// read at each call (the oldest hold by a seek per held outcome, the outbox's items by
  /// state from the counts the store keeps).
  void sample(metrics::gauges& out);
  /// The counters this gate counts into (the outbox worker counts its attempts there too).
  [[nodiscard]] metrics& counters() noexcept { return metrics_; }

  [[nodiscard]] static std::int64_t now_ms();

 private:
  /// A snapshot's change to the store and the engine (`change`, under the gate's lock) in the
  /// next commit, waited for.
  snapshot_result in_next_commit(const std::function<store::snapshot_load()>& change);
  void process(std::string_view payload, std::string_view channel, std::string_view sender,
               const stream_position* position, completion done);
  void process_locked(std::unique_lock<std::mutex>& lock, std::string_view payload,
                      std::string_view channel, std::string_view sender,
                      const stream_position* position, completion done,
                      std::chrono::steady_clock::time_point started);
  /// Runs `change` (under the gate's lock, in the open group) and waits for that group's
  /// commit. False when the gate takes no writes, a store call threw (said by store_failed)
  /// or the commit failed.
  bool change_in_next_commit(const std::function<void()>& change);
  void review_at(std::string_view claim_id, bool release, std::string_view who,
                 std::string_view why, std::int64_t at_ms, const stream_position* position,
                 std::function<void(stream_review_result)> done);
  void join_group();                                     // under mutex_
  void after_commit(std::function<void(bool durable)>);  // under mutex_
  void commit_loop();
  void checkpoint_loop();
  void process_loop();
  void enqueue_later(const std::vector<engine::event>& events, engine::message_time at);
  void store_failed(std::string_view reason);  // under mutex_

  server_config config_;
  metrics& metrics_;
  std::mutex mutex_;
  std::condition_variable work_;  // the committer waits here for a group
  bool in_group_ = false;         // a transaction is open
  bool stopping_ = false;
  std::vector<std::function<void(bool)>> group_;  // completions of the open group
  store::sqlite_store store_;
  std::mutex reader_mutex_;                    // the reader's statements are not shared
  std::optional<store::sqlite_store> reader_;  // read-only connection; none when in memory
  engine::intake intake_;
  std::atomic<bool> healthy_{true};
  std::shared_ptr<const std::vector<destination_config>> destinations_;  // under mutex_
  std::condition_variable stop_;  // wakes the checkpointer when stopping
  std::thread committer_;         // last: started once everything above exists
  std::optional<std::chrono::steady_clock::time_point> last_checkpoint_warning_;  // its loop's
  std::thread checkpointer_;  // copies the WAL into the database file, off the commit path
  // The listeners' messages waiting for the processor (process_loop).
  struct queued_message {
    std::string payload;
    std::string channel;
    std::string sender;
    completion done;
    std::chrono::steady_clock::time_point received;
  };
  std::mutex inbox_mutex_;
  std::condition_variable inbox_ready_;
  std::vector<queued_message> inbox_;
  bool inbox_closed_ = false;
  std::thread processor_;  // processes the listeners' messages (process_loop)
};

}  // namespace covgate::server
