// A cluster worker's loop (docs/cluster.md §5): it holds partitions through the lease manager
// and applies each held partition's messages, strictly in stream order, through a
// message_applier (the host's engine and store; covgate serve wires its durable gate in).
//
// Besides, one thread applies stream CG_REF (reference data for every partition) whole.
// Per partition, on acquiring it under epoch E:
//   0. a store that never applied the partition loads its latest snapshot (CG_SNAP, §5j),
//      when there is one, so the catch-up starts from the snapshot's position;
//   1. catch-up: read the partition from the stream in order, from the sequence after the one
//      the store last applied, to the end (an ordered consumer). This applies what other
//      workers applied while they held it (the store is this worker's own), and also messages
//      delivered to a worker that died before acknowledging them: without it, the durable
//      consumer would hand out newer messages first and redeliver those only after ack_wait,
//      and the store's position would already be past them.
//   2. the durable consumer part-NN: fetch a batch, check the lease (valid_epoch), apply every
//      message (the applier groups them into one commit), then for each in order: send its
//      reply (header Cg-Reply-To) and acknowledge it. A redelivery the store already applied is
//      acknowledged without a reply. Every snapshot_every, between batches, the partition's
//      snapshot is written to CG_SNAP (while the lease is valid).
//      A batch that does not follow the runner's previous deliveries (handed_in_turn: the
//      consumer handed a message to another client in between, such as a pull request the
//      previous holder left open) is applied only after the partition's messages before it,
//      read from the stream (step 1 again, to the stream's end). A message that other client
//      hands back later is then one the store applied, in its place.
// A partition stops at the first message that is fenced off (an older epoch than its store
// recorded) or not made durable: the rest of the batch is handed back (nak) and nothing after
// it is applied, so the store's position never passes an unapplied message. A store that
// failed makes the worker hand back every lease (another worker takes over).
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

#include "covgate/cluster/lease_manager.hpp"
#include "covgate/cluster/nats_client.hpp"
#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

/// Whether a fetched batch, whose delivery sequences (fetched_message::delivery_sequence) are
/// `deliveries` in the order fetched, follows without a gap the delivery `last` this client
/// was handed before (nullopt: none yet, so nothing says it does). False when the consumer
/// handed another client a message in between, or within the batch.
[[nodiscard]] bool handed_in_turn(std::optional<std::uint64_t> last,
                                  const std::vector<std::uint64_t>& deliveries) noexcept;

/// One inbound message, as the applier sees it.
struct stream_message {
  int partition = 0;
  std::uint64_t sequence = 0;  ///< its CG_IN stream sequence
  std::uint64_t epoch = 0;     ///< the lease it is applied under
  /// When CG_IN stored it (Unix ms): the message's time wherever and however often it is
  /// applied, so that a partition rebuilt elsewhere dates its events as the first holder did.
  std::int64_t stored_ms = 0;
  std::string_view data;
  /// What its subject says it is (nullopt: a kind this version does not know). Claims and
  /// facts are read by their content whatever their kind; a review is not a standard's
  /// message and is told apart by its kind only.
  std::optional<message_kind> kind;
  /// Its sender asked for the decision lines of its events (header Cg-Decisions: want; a C
  /// ABI host's front, §5i): only then does the gate write them.
  bool with_decisions = false;
};

/// What became of one message.
struct applied_message {
  enum class verdict : std::uint8_t {
    applied,          ///< processed and durable: reply and acknowledge
    already_applied,  ///< the store had it (a redelivery): acknowledge
    fenced,           ///< the store recorded a newer epoch: stop the partition
    failed,           ///< not durable (the store failed): stop, hand every lease back
  };
  verdict result = verdict::failed;
  std::string body;                ///< the answer for the sender
  std::string content_type;        ///< its media type
  std::string outcome;             ///< accepted, rejected, … (a header of the reply)
  std::vector<std::size_t> parts;  ///< lengths of the answer's parts (HL7 v2 ACKs), or none
  std::uint32_t claims = 0;        ///< claims answered (a header of the reply)
  std::uint32_t facts = 0;         ///< facts read (a header of the reply)
  /// What the message's claims came to (engine::name of a disposition; Cg-Disposition), or ""
  std::string disposition;
  /// The decision lines of its events, when the message asked for them: sent after the
  /// answer in the reply's body, their length in Cg-Decisions-Bytes.
  std::string decisions;
};

/// The host's side: applies messages and knows where its store stands.
class message_applier {
 public:
  virtual ~message_applier() = default;
  /// Starts applying `m`; calls `done` once, from any thread, when the outcome is durable
  /// (or failed). Calls for one partition come in stream order.
  virtual void apply(const stream_message& m, std::function<void(applied_message)> done) = 0;
  /// The last stream sequence the store applied for `partition` (0: none).
  [[nodiscard]] virtual std::uint64_t applied_sequence(int partition) = 0;
  /// The partition's rows as a snapshot (store/partition_snapshot.hpp), read at one applied
  /// position, or nullopt when the host keeps none (the default) or has no position for it.
  [[nodiscard]] virtual std::optional<std::string> snapshot(int /*partition*/) {
    return std::nullopt;
  }
  /// Loads a snapshot of `partition` into a store that never applied it, durably; false when
  /// the host takes none (the default) or did not load it (`why` says why: the worker then
  /// rebuilds the partition from the stream).
  virtual bool load_snapshot(int /*partition*/, std::string_view /*bytes*/, std::string& why) {
    why = "this host keeps no snapshots";
    return false;
  }
  /// Replaces the store's copy of `partition` (stale: CG_IN no longer holds what it lacks; or
  /// none) by a newer snapshot of it, durably: the copy's rows go and the snapshot's come in
  /// one change, or nothing changes. False when the host takes none (the default) or did not
  /// replace it (`why` says why: the partition is then refused, as before).
  virtual bool replace_by_snapshot(int /*partition*/, std::string_view /*bytes*/,
                                   std::string& why) {
    why = "this host replaces no copy";
    return false;
  }
  /// Moves the store's position for `partition` to `sequence` (under `epoch`) with no message:
  /// every message of the partition up to it is applied (the runner knows it from the
  /// consumer, below). Durable when it returns true; false when the host keeps no such
  /// position (the default) or did not move it (a newer epoch recorded, a failed store).
  virtual bool advance(int /*partition*/, std::uint64_t /*sequence*/, std::uint64_t /*epoch*/) {
    return false;
  }
};

struct worker_settings {
  std::string worker;  ///< this worker's id (is_worker_id)
  int partitions = 0;  ///< the cluster's partition count (the mapping's N)
  lease_timing timing;
  int batch = 64;                             ///< messages per fetch
  std::chrono::milliseconds fetch_wait{250};  ///< how long a fetch waits for the first one
  /// Silence in a catch-up's stream read after which it asks the partition's consumer
  /// whether anything acknowledged is still unread (then it waits on, else it is done).
  std::chrono::milliseconds catch_up_wait{2'000};
  /// Told about trouble (a partition of -1: the lease loop), from the worker's threads; the
  /// text names operations and partitions, never message content.
  std::function<void(int partition, const std::string& what)> problem;
  /// Told, from the worker's threads, when it takes a partition ("acquired"), has applied the
  /// stream up to the partition's end ("caught up") and stops working on it ("left": lost,
  /// released or fenced off), with the lease's epoch. For the operators' log.
  std::function<void(int partition, const char* what, std::uint64_t epoch)> ownership;
  /// Apply stream CG_REF whole (reference data, §5f), as partition reference_partition.
  bool reference_data = true;
  /// How often a caught-up partition's snapshot is written to CG_SNAP (§5j) when it applied
  /// anything since the last; 0: never. A partition taken over by a store that never applied
  /// it loads the latest snapshot, when there is one, before it catches up from the stream.
  std::chrono::milliseconds snapshot_every{0};
  /// Load a snapshot even when writing none (snapshot_every 0): a worker that only reads.
  bool load_snapshots = false;
};

/// One held partition as /metrics shows it.
struct partition_progress {
  std::uint64_t epoch = 0;
  std::uint64_t applied = 0;           ///< messages applied since it was acquired
  std::uint64_t caught_up_from = 0;    ///< the sequence its catch-up started after
  bool caught_up = false;              ///< catch-up done, consuming the durable
  std::uint64_t snapshot_loaded = 0;   ///< the position of the snapshot it started from (0: none)
  std::uint64_t snapshot_written = 0;  ///< the position of the last snapshot it wrote (0: none)
  /// The store cannot be caught up: CG_IN no longer holds messages the partition's consumer
  /// acknowledged after the store's position (catch_up_gap), and no snapshot of the
  /// partition stands past that gap. Nothing is applied meanwhile.
  bool gap = false;
  /// Messages the partition's consumer handed another client (a pull request a previous
  /// holder left open, say), applied from the stream in their place, before the later ones
  /// this runner was handed.
  std::uint64_t applied_in_place = 0;
};

/// Whether a store at stream position `from` would miss acknowledged messages if it caught
/// up from a stream that now starts at `first` (trimmed by its limits or purged) while the
/// partition's consumer has acknowledged through `acknowledged`: true when the stream lost
/// sequences after `from` and some of the partition's messages after `from` were
/// acknowledged. Conservative: a consumer's floor also moves past other partitions'
/// messages, so a partition that had none in the trimmed range is refused too once its
/// consumer moved on (the stream cannot say which it was). Pure.
[[nodiscard]] constexpr bool catch_up_gap(std::uint64_t from, std::uint64_t first,
                                          std::uint64_t acknowledged) noexcept {
  return first > from + 1 && acknowledged > from;
}

/// Runs the lease loop and the partitions on threads of its own, from start() until stop().
class worker {
 public:
  /// `js`, `owners` (cg-owners), `workers` (cg-workers) and `applier` outlive the worker. Throws
  /// std::invalid_argument for settings lease_manager refuses.
  worker(jetstream& js, kv_bucket& owners, kv_bucket& workers, message_applier& applier,
         worker_settings settings);
  ~worker();  ///< stop()
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  void start();
  /// Stops every partition (finishing the batch in hand), hands the leases back and joins.
  /// Idempotent.
  void stop();

  /// The partitions held now and how far each is.
  [[nodiscard]] std::map<int, partition_progress> progress() const;
  /// The last lease round's failure ("" when it went well).
  [[nodiscard]] std::string last_failure() const;
  /// Reference messages (CG_REF) applied since start().
  [[nodiscard]] std::uint64_t reference_applied() const;

 private:
  class partition_runner;
  class reference_runner;

  void lease_loop();
  void start_runners();
  void lost(int partition);
  void problem(int partition, const std::string& what);
  [[nodiscard]] bool still_valid(int partition, std::uint64_t epoch) const;
  void store_failed();

  jetstream& js_;
  message_applier& applier_;
  worker_settings settings_;
  lease_manager leases_;  // used by the lease thread only

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool started_ = false;
  std::atomic<bool> store_failed_{false};
  std::map<int, held_lease> held_;  // a copy of leases_.held() after each round
  std::string last_failure_;
  mutable std::mutex runners_mutex_;  // running_ (written by the lease thread only)
  std::map<int, std::unique_ptr<partition_runner>> running_;
  std::vector<std::unique_ptr<partition_runner>> retiring_;  // lease thread only
  std::thread lease_thread_;
  std::unique_ptr<reference_runner> reference_;  // under mutex_ for reading; started last
};

}  // namespace covgate::cluster
