// The service behind the listeners: one gate, one store, one lock. A message is journaled and
// processed inside the open SQLite transaction, and its answer is released only after that
// transaction commits, so an answered message is never lost; outcome changes of earlier
// claims go to the outbox in the same transaction. Commits are grouped: a committer thread
// commits whatever messages arrived while the previous commit ran, from every connection at
// once (under load it lets the group grow while messages keep arriving, ≤ 150 us), so
// durability costs one commit per group, not per message. Thread-safe: every public
// member may be called from any thread (the gate itself is single-threaded; the lock
// serializes it, which is also what SQLite wants).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "covgate/engine/inbox.hpp"
#include "covgate/store/sqlite_store.hpp"
#include "covgate/transport/config.hpp"

namespace covgate::transport {

struct reply {
  engine::payload_kind kind = engine::payload_kind::unknown;
  std::string body;
  std::string_view content_type;
  bool rejected = false;  ///< all or part of the message was refused (its answer says why)
  bool durable = true;    ///< false: the store failed; the message must not be acknowledged
  std::uint32_t claims = 0;
  std::uint32_t facts = 0;
  std::int64_t journal_id = 0;
  std::uint32_t repeated_interchanges = 0;  ///< answered as in an earlier message
};

enum class review_status : std::uint8_t { done, unknown_claim, not_reviewable, unavailable };

class service {
 public:
  /// Opens the store and recovers: held claims and the current facts are in it (a store from
  /// before the facts table has its facts read from the journal once). Throws
  /// store::store_error or config_error.
  service(const server_config& config, const policy::policy_file& policy,
          const mapping::tables& tables);

  using completion = std::function<void(reply)>;

  /// One whole message from `channel` ("mllp", "http") and `sender` (a peer address). It is
  /// processed now; `done` is called once its transaction committed (or failed: durable is
  /// false then), from the committer thread, in submission order. Post to your own executor.
  void submit(std::string_view payload, std::string_view channel, std::string_view sender,
              completion done);

  /// submit() and wait for the answer (tests, simple callers).
  [[nodiscard]] reply handle(std::string_view payload, std::string_view channel,
                             std::string_view sender);

  /// GET /claims: open claims with `result`, by id after `after`, at most `limit`, as JSON.
  [[nodiscard]] std::string worklist_json(model::outcome result, std::string_view after,
                                          std::size_t limit);
  /// GET /claims/{id}: the current decision with its findings and history; nullopt if unknown.
  [[nodiscard]] std::optional<std::string> claim_json(std::string_view claim_id);
  /// POST /claims/{id}/release|cancel, recorded with who and why; `done` runs after commit.
  void review(std::string_view claim_id, bool release, std::string_view who, std::string_view why,
              std::function<void(review_status)> done);
  /// review() and wait.
  [[nodiscard]] review_status review(std::string_view claim_id, bool release, std::string_view who,
                                     std::string_view why);

  service(const service&) = delete;
  service& operator=(const service&) = delete;
  ~service();  ///< shutdown()

  /// Commits what is pending (answering it) and stops the committer and checkpointer;
  /// submit() refuses from then on. Call it while the executors that answers are posted to
  /// still exist. Idempotent.
  void shutdown();

  /// Prometheus text exposition.
  [[nodiscard]] std::string metrics_text();
  /// False once the store failed: nothing more is accepted until a restart.
  [[nodiscard]] bool healthy() const noexcept { return healthy_; }

  // The outbox, for the delivery worker.
  [[nodiscard]] std::vector<store::outbox_item> due(std::size_t limit);
  void delivered(const store::outbox_item& item);
  void failed(const store::outbox_item& item, std::string_view error);
  [[nodiscard]] std::optional<std::int64_t> next_due();

  /// Applies the journal's retention (age, size); returns rows deleted.
  std::uint64_t prune();

  /// Connection bookkeeping for the listeners' metrics and limits.
  void connection_opened(std::string_view listener);
  void connection_closed(std::string_view listener);
  void connection_refused(std::string_view listener, std::string_view reason);
  [[nodiscard]] std::size_t connections(std::string_view listener);

  [[nodiscard]] const server_config& config() const noexcept { return config_; }
  [[nodiscard]] static std::int64_t now_ms();

 private:
  class stored_interchanges;
  void record(const engine::event& e);
  /// Under mutex_ (or at start-up): keeps an accepted message's facts, one row per resource.
  void keep(const std::vector<model::fact>& facts);
  /// At start-up: rebuilds the gate's facts from the store.
  void restore_facts();
  /// Under mutex_: opens the group's transaction if none is open.
  void join_group();
  /// Under mutex_: queues `done` to run after the group commits.
  void after_commit(std::function<void(bool durable)> done);
  void commit_loop();
  void checkpoint_loop();
  void enqueue_later(const std::vector<engine::event>& events, const engine::message_time& at);
  /// Under mutex_: the store failed; logged with its reason, and nothing more is accepted.
  void store_failed(std::string_view reason);
  [[nodiscard]] static engine::message_time now_stamp();

  std::mutex mutex_;
  std::condition_variable work_;  // the committer waits here for a group
  bool in_group_ = false;         // a transaction is open
  bool stopping_ = false;
  std::vector<std::function<void(bool)>> group_;  // completions of the open group
  std::uint64_t groups_ = 0;
  std::uint64_t grouped_messages_ = 0;
  server_config config_;
  store::sqlite_store store_;
  engine::inbox inbox_;
  std::atomic<bool> healthy_{true};
  std::int64_t current_ms_ = 0;  // the time of the message being processed (history rows)

  // Metrics (under mutex_).
  std::map<std::pair<std::string, std::string>, std::uint64_t> messages_;  // (channel, kind)
  std::map<std::string, std::uint64_t> rejected_;                          // kind
  std::map<std::string, std::uint64_t> events_;                            // event kind
  std::vector<std::uint64_t> latency_buckets_;  // cumulative at the end; per bucket here
  std::unique_ptr<engine::interchange_memory> interchanges_;  // accepted ones, in the store
  double latency_sum_ = 0;
  std::uint64_t latency_count_ = 0;
  std::uint64_t repeated_interchanges_ = 0;
  std::uint64_t store_failures_ = 0;
  std::map<std::string, std::int64_t> connections_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> refused_;
  std::condition_variable stop_;  // wakes the checkpointer when stopping
  std::thread committer_;         // last: started once everything above exists
  std::thread checkpointer_;      // copies the WAL into the database file, off the commit path
};

}  // namespace covgate::transport
