// The durable engine state of `covgate serve` and `covgate replay --store`: SQLite in WAL mode,
// one database file in the configured directory. Beside what engine::state holds (claims,
// decision history, the facts of every resource, answered interchanges, counters such as our
// interchange control number) it keeps the inbound journal (every message, before it is
// acknowledged) and the outbox. Not thread-safe: its owner serializes access (one writer is
// what SQLite wants anyway); only checkpoint() may run on another thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/engine/state.hpp"
#include "covgate/model/decision.hpp"
#include "covgate/model/reason.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace covgate::store {

/// A store failure (disk full, a corrupt file): the message cannot be made durable, so it
/// must not be acknowledged.
struct store_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct journal_entry {
  std::int64_t id = 0;
  std::int64_t received_ms = 0;      ///< Unix time in milliseconds
  std::string channel;               ///< "mllp", "http", "replay"
  std::string sender;                ///< peer address (never patient data)
  std::string kind;                  ///< "x12", "fhir", "hl7v2", "unknown"
  std::string body;                  ///< the message, or its first bytes when it was refused whole
  std::uint64_t received_bytes = 0;  ///< the message's length (0: body.size())
  std::string digest;                ///< "sha256:<hex>" of the whole message when body is cut
};

struct outbox_item {
  std::int64_t id = 0;
  std::string key;  ///< idempotency key: "NPI_CLM01-sequence" (engine::event::delivery_key())
  std::uint32_t destination = 0;
  std::string content_type;
  std::string body;
  std::uint32_t attempts = 0;
};

/// The destination index of the C ABI's host (libcovgate): its later answers wait in the
/// outbox under this index until the host acknowledges them (covgate_ack). due() never
/// returns them, so serve's delivery worker leaves them alone.
inline constexpr std::uint32_t host_destination = 0xFFFF'FFFFu;

/// An outbox item as an operator sees it (GET /outbox): without its body.
struct outbox_entry {
  std::int64_t id = 0;
  std::string key;
  std::uint32_t destination = 0;
  std::uint32_t attempts = 0;
  std::string state;       ///< "pending", "delivered" or "dead"
  std::string last_error;  ///< why the last attempt failed ("" before any failure)
  /// Unix milliseconds: when a pending item is due, or when a delivered one was delivered
  /// (in a store from before that was recorded: when its last attempt was due).
  std::int64_t next_ms = 0;
};

enum class retry_result : std::uint8_t { retried, unknown, delivered };

/// One row of the worklist's list: what a list shows and filters and sorts on, kept beside each
/// claim (save() and record_history() write it), so a page of 100,000 holds never decodes a
/// claim.
struct claim_row {
  std::string id;  ///< the claim's key (model::claim_key): CLM01 and the billing NPI
  model::outcome result = model::outcome::release;
  bool closed = false;
  std::string patient;        ///< the patient key (member id)
  std::string patient_name;   ///< "LAST, FIRST M" (the patient, else the subscriber)
  std::string dos;            ///< YYYY-MM-DD or ""
  std::string reason;         ///< the first (most severe) reason's code, or ""
  std::uint64_t reasons = 0;  ///< bit (1 << model::reason) for every reason of the decision
  std::string billing;        ///< billing provider NPI
  std::string billing_name;
  std::string sender;       ///< ISA06 (trimmed) of the interchange that carried the claim
  std::string sender_name;  ///< the 1000A submitter's name
  std::int64_t charge_cents = 0;
  std::int64_t since_ms = 0;    ///< when the current outcome began (the last event)
  std::int64_t updated_ms = 0;  ///< the last event
  bool held = false;            ///< held at some time (a release after a hold is "released")
  std::uint32_t events = 0;
};

/// The columns the list sorts on (each with the claim id as tie-breaker).
enum class claim_sort : std::uint8_t {
  id,
  patient,
  name,
  dos,
  outcome,
  reason,
  provider,
  sender,
  charge,
  since,
  updated,
  events
};

/// A filtered, sorted page of the list (every field optional but the queue).
struct claim_query {
  std::optional<model::outcome> result;  ///< open claims with this outcome
  /// Instead of `result`: open claims released after a hold, at or after this time.
  std::optional<std::int64_t> released_since_ms;
  std::optional<model::reason> reason;
  std::string patient;           ///< the patient key exactly, or part of the name (any case)
  std::string provider;          ///< the billing NPI exactly, or part of its name
  std::string sender;            ///< ISA06 exactly, or part of the submitter's name
  std::string dos_from, dos_to;  ///< YYYY-MM-DD, inclusive
  std::optional<std::int64_t> since_at_most_ms;   ///< held since at or before (a minimum age)
  std::optional<std::int64_t> since_at_least_ms;  ///< held since at or after (a maximum age)
  claim_sort sort = claim_sort::id;
  bool descending = false;
  /// Keyset paging: rows after this (sort value, id) in the order asked for.
  std::optional<std::pair<std::string, std::string>> after;
  std::size_t limit = 100;
  /// A cluster worker's partitions (docs/cluster.md §5h): when set, only the claims whose
  /// patient key it maps to a number of 0 or more are listed, and claim_page::groups counts
  /// them by that number. Called once per matching row (keep a cache for a costly one); one
  /// that throws fails the listing with a store_error giving its reason.
  std::function<int(std::string_view patient)> group_of;
};

struct claim_page {
  std::vector<claim_row> rows;
  std::uint64_t total = 0;              ///< rows matching the filters, on every page
  std::map<int, std::uint64_t> groups;  ///< with claim_query::group_of: the total by group
};

/// Whether a sort key's values compare as numbers (else as bytes, as SQLite's BINARY does).
[[nodiscard]] bool sorts_as_number(claim_sort key) noexcept;

/// Open claims by outcome: how many, and the oldest outcome's start.
struct queue_count {
  std::uint64_t count = 0;
  std::int64_t oldest_since_ms = 0;  ///< 0 when empty
};

/// Adds `more` to `total`: the counts, and the older of the two oldest starts.
void add_queue_count(queue_count& total, const queue_count& more) noexcept;

/// What the worklist's GET /queues counts, by queue: the open claims held for documentation,
/// for review, not covered, invalid, and the claims released after a hold within a window.
using worklist_counts = std::array<queue_count, 5>;

/// A release recorded in the history (for the chart of releases over time).
struct release_row {
  std::int64_t at_ms = 0;
  bool by_reviewer = false;   ///< source review:…
  bool first_answer = false;  ///< the claim's first answer (sequence 1)
  std::string patient;        ///< the claim's patient key (a cluster worker's partition)
};

struct outbox_counts {
  std::uint64_t pending = 0, delivered = 0, dead = 0;
};

/// Where a cluster worker's store stands in one partition of the inbound stream: the last
/// stream sequence it applied and the lease epoch it applied it under (docs/cluster.md).
struct applied_position {
  std::uint64_t stream_seq = 0;
  std::uint64_t epoch = 0;
  friend bool operator==(const applied_position&, const applied_position&) = default;
};

/// What record_applied() decided about one stream message.
enum class apply_verdict : std::uint8_t {
  apply,            ///< new: recorded; apply the message in this transaction, then ack
  already_applied,  ///< a redelivery (sequence at or below the recorded one): skip it, ack
  stale_epoch,      ///< under an epoch older than the recorded one: this worker was fenced
                    ///< off; roll back, do not ack, drop the partition
};

/// What sqlite_store::write_snapshot() wrote (docs/cluster.md §5j).
struct snapshot_summary {
  /// The partition's applied position the rows are at; nullopt when the store never applied a
  /// message of it (then nothing was written).
  std::optional<applied_position> position;
  std::uint64_t claims = 0, history = 0, facts = 0;  ///< rows written, by kind
  std::uint64_t outbox = 0;  ///< the partition's releases still pending delivery
};

/// What sqlite_store::load_snapshot() did.
enum class snapshot_load_verdict : std::uint8_t {
  loaded,       ///< the rows are in the transaction; the partition stands at the snapshot
  not_newer,    ///< the store stands at or past the snapshot's position: nothing changed
  held_before,  ///< the store holds an older copy of the partition: nothing changed (it
                ///< catches up from the stream, or drop_partition() takes the copy out first)
  malformed,    ///< not a snapshot (see snapshot_load::error): nothing changed
};

struct snapshot_load {
  snapshot_load_verdict verdict = snapshot_load_verdict::malformed;
  std::uint64_t claims = 0, history = 0, facts = 0;  ///< rows loaded, by kind
  std::uint64_t outbox = 0;                          ///< pending releases taken over
  std::string error;                                 ///< with malformed
};

/// What a loaded snapshot hands its owner, once all its rows are in: each facts row it
/// loaded (for the gate's index) and the decision of each open claim (for its counts).
struct snapshot_restore {
  std::function<void(std::string_view encoded_facts)> facts;
  std::function<void(const model::decision& decision)> open_decision;
};

/// What sqlite_store::drop_partition() took out of the store.
struct partition_drop {
  bool held = false;                                 ///< the store had a position for the partition
  std::uint64_t claims = 0, history = 0, facts = 0;  ///< rows deleted, by kind
  std::uint64_t outbox = 0;                          ///< pending releases deleted
};

/// Tag of the read-only constructor.
struct read_only_t {
  explicit read_only_t() = default;
};
inline constexpr read_only_t read_only{};

class sqlite_store final : public engine::state {
 public:
  /// Opens (creating when needed) `directory`/covgate.db; "" or ":memory:" opens a private
  /// in-memory database instead. Throws store_error.
  sqlite_store(const std::filesystem::path& directory, bool synchronous_full);
  /// A read-only connection to the database a writer already opened in `directory`: in WAL
  /// mode it reads the last committed state without waiting for the writer (and without
  /// seeing its open transaction), so readers such as GET /claims never queue behind a long
  /// evaluation. Every write through it throws store_error. Not for in-memory stores (a
  /// second connection would open another, empty database): throws store_error.
  sqlite_store(const std::filesystem::path& directory, read_only_t);
  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  // engine::state
  [[nodiscard]] bool durable() const noexcept override { return true; }
  [[nodiscard]] bool keeps_history() const noexcept override { return true; }
  [[nodiscard]] std::optional<engine::claim_record> load(std::string_view claim_key) const override;
  void save(const engine::claim_record_view& record) override;
  [[nodiscard]] std::vector<engine::claim_summary> claims_of(
      std::string_view patient) const override;
  [[nodiscard]] std::size_t size() const override;
  [[nodiscard]] std::vector<engine::claim_summary> open_claims_of(std::string_view patient,
                                                                  bool released_too) const override;
  [[nodiscard]] bool csii_released_other_than(std::string_view patient,
                                              std::string_view claim_key) const override;
  void for_each_open_decision(
      const std::function<void(const model::decision&)>& visit) const override;
  void record_history(std::string_view claim_key, const engine::history_entry& entry) override;
  [[nodiscard]] std::vector<engine::history_entry> history(
      std::string_view claim_key) const override;
  /// Replaces the resource's stored version unless that one is newer by meta.lastUpdated
  /// (the fact index's rule, model::older_version), so the table holds what the index holds:
  /// one row per resource, its current version or its retraction. A resource of no patient
  /// (model::names_no_patient) written for a partition (set_writing_partition) is filed under
  /// shared_part.
  void save_facts(std::string_view resource, std::string_view last_updated,
                  std::string_view encoded) override;
  void for_each_facts(const std::function<void(std::string_view encoded)>& visit) const override;
  [[nodiscard]] std::optional<engine::interchange_answer> interchange(
      std::string_view sender_control) const override;
  /// Pruned with the journal, by age (ISA13s wrap).
  void remember_interchange(std::string_view sender_control, std::int64_t received_ms,
                            engine::interchange_answer answer) override;
  [[nodiscard]] std::int64_t counter(std::string_view name, std::int64_t fallback) const override;
  void set_counter(std::string_view name, std::int64_t value) override;

  /// A cluster worker's bookkeeping for stream message `stream_seq` of `partition`, received
  /// under lease `epoch`: refuses an epoch below the recorded one (stale_epoch), skips a
  /// sequence at or below the recorded one (already_applied), else records (stream_seq, epoch)
  /// and answers apply. Must run inside begin()/commit() (throws store_error otherwise), in the
  /// transaction that applies the message, so that the state change and the position are
  /// durable together or not at all: a message redelivered after a crash then changes nothing.
  /// The caller applies a partition's messages strictly in stream order and stops the
  /// partition at the first failure: everything at or below the recorded sequence counts as
  /// applied, so a later message committed past a failed earlier one would hide it for good.
  /// Sequences and epochs above 2^63 - 1 throw store_error (SQLite integers are signed).
  apply_verdict record_applied(std::uint32_t partition, std::uint64_t stream_seq,
                               std::uint64_t epoch);
  /// The recorded position of `partition`, or nullopt before its first message.
  [[nodiscard]] std::optional<applied_position> applied(std::uint32_t partition) const;

  /// Writes one partition's rows as a snapshot (store/partition_snapshot.hpp) to `out`, read
  /// in one transaction so they stand at one applied position: the claims, worklist rows and
  /// history of the patients `mine` accepts (the partition's, by the cluster's mapping), and
  /// the facts rows that name such a patient, or that name a patient by reference only (facts
  /// waiting for their Patient: the store cannot tell whose they are, so every partition's
  /// snapshot carries them), and the partition's releases still pending in the outbox (the
  /// new owner delivers them; CG_OUT keeps one copy of each). Not carried: reference data
  /// (every worker has CG_REF), the journal, remembered interchanges, delivered and dead
  /// outbox items. `mine` must not throw. Either connection
  /// may write one (a worker uses its read-only one, beside the writer).
  snapshot_summary write_snapshot(std::uint32_t partition,
                                  const std::function<bool(std::string_view patient_key)>& mine,
                                  std::string& out) const;
  /// Loads a snapshot written by write_snapshot(), inside begin()/commit() (throws store_error
  /// otherwise): its rows (claims and facts numbered after this store's own, in the
  /// snapshot's order) and the partition's applied position. Only into a store that never
  /// applied a message of the partition (else not_newer or held_before, nothing changed). A
  /// claim id this store holds already throws store_error, with the snapshot's rows undone
  /// (a savepoint) and the rest of the transaction kept: the stream replay then decides such
  /// a claim as one process would. Once every row is in, `restore` gets each facts row loaded
  /// (a facts row the store held already is kept, not passed) and each open claim's decision.
  snapshot_load load_snapshot(std::string_view bytes, const snapshot_restore& restore);
  /// Takes a stale copy of `partition` out of the store, inside begin()/commit() (throws
  /// store_error otherwise), so that load_snapshot() may replace it: the rows a snapshot of it
  /// would carry (write_snapshot: its claims with their worklist rows, history and releases
  /// still pending; the facts filed under it, or unfiled and naming a patient `mine` accepts)
  /// and its applied position. Facts that name their patient by reference only and were not
  /// filed under it stay (other partitions' snapshots carry them too), as do the journal,
  /// remembered interchanges and delivered outbox items. `open_decision` gets the decision of
  /// each open claim deleted, before it goes (the gate's counts), and `fact_resource` the
  /// resource of each facts row deleted (the gate's index). `mine` must not throw.
  partition_drop drop_partition(
      std::uint32_t partition, const std::function<bool(std::string_view patient_key)>& mine,
      const std::function<void(const model::decision&)>& open_decision,
      const std::function<void(std::string_view resource)>& fact_resource = {});
  /// drop_partition() and load_snapshot() as one change, inside begin()/commit(): a stale copy
  /// of the snapshot's partition replaced by the snapshot. Nothing changes unless the snapshot
  /// loads (a claim id the store holds in another partition throws store_error with both
  /// undone; a store at or past the snapshot's position is not_newer). `restore` as for
  /// load_snapshot(); once loaded, `dropped_decision` gets each open claim's decision the copy
  /// held, then `dropped_fact` each facts row's resource it held, and only then does
  /// `restore.facts` get the snapshot's facts rows (a caller's index forgets the copy's version
  /// of a resource before it takes the snapshot's, which may be older).
  snapshot_load replace_partition(
      std::string_view bytes, const std::function<bool(std::string_view patient_key)>& mine,
      const snapshot_restore& restore,
      const std::function<void(const model::decision&)>& dropped_decision,
      const std::function<void(std::string_view resource)>& dropped_fact = {});

  /// Claims and facts rows written from now on belong to stream partition `partition` (a
  /// cluster worker sets it while it applies one of the partition's messages; nullopt, the
  /// default: none). A partition's snapshot selects its rows by it.
  void set_writing_partition(std::optional<std::uint32_t> partition) noexcept {
    writing_partition_ = partition;
  }
  /// Where a facts row of no patient (a Practitioner) is filed when a partition's message
  /// wrote it: it is every partition's. Messages of many partitions carry the same
  /// Practitioner, and the row is one per resource: filed under whichever partition brought
  /// it last, a copy of another partition rebuilt from a snapshot would lack it, and evaluate
  /// that partition's visits as by an unknown provider. So every partition's snapshot carries
  /// these rows, and replacing a partition's copy keeps them. Above every partition number
  /// and CG_REF's.
  static constexpr std::uint32_t shared_part = 4096;

  /// Everything between begin() and commit() is one transaction (rollback() undoes it).
  void begin();
  void commit();
  void rollback();

  /// Makes commit() write a transaction to the WAL without waiting for the disk: the caller
  /// makes it durable with sync() before it tells anyone it was stored. A server does so to
  /// wait for the disk outside its lock (the next messages are processed during the wait,
  /// where SQLite's own synchronous=FULL would hold the writer for it). SQLite's
  /// synchronous=NORMAL for this connection; checkpoints (their own connection, FULL) still
  /// sync the WAL before copying and the database after. No-op for an in-memory store. Call
  /// before any thread checkpoints: it opens the descriptor sync() keeps.
  void defer_sync();
  /// Every transaction committed before the call is on disk when it returns: fdatasync of the
  /// WAL file (which a power cut's recovery reads, SQLite validating each frame) through a
  /// descriptor kept from defer_sync() on, and once per store of its directory, whose entry
  /// for the WAL must survive too. Safe to call
  /// from another thread than the writer's while it writes (a frame written meanwhile is
  /// synced or not, and belongs to a transaction not yet committed). Throws store_error.
  void sync();
  [[nodiscard]] bool sync_deferred() const noexcept { return sync_deferred_; }

  /// Appends a message to the journal under next_journal_id(); returns that id. When the
  /// journal's bytes then pass the limit set by limit_journal_bytes(), its oldest rows go in
  /// the same transaction (never the one just written), so the limit holds as rows arrive,
  /// not only when prune_journal() runs: the journal never holds more than the limit plus
  /// the newest message.
  std::int64_t journal(const journal_entry& entry);
  /// The id the next journal() will use (a caller names the message by it while processing).
  [[nodiscard]] std::int64_t next_journal_id() const noexcept { return next_journal_id_; }
  /// The byte budget journal() keeps (0: none; prune_journal() still applies its own).
  void limit_journal_bytes(std::uint64_t max_bytes) noexcept { journal_limit_ = max_bytes; }
  /// Calls `visit` for every journaled message of `kind`, oldest first.
  void for_each_journal(std::string_view kind,
                        const std::function<void(const journal_entry&)>& visit) const;
  /// Deletes journal rows older than `max_age` before `now_ms`, then the oldest rows until the
  /// journal's bytes fit `max_bytes`; remembered interchanges older than `max_age` go too.
  /// Returns the journal rows deleted. (Nothing is recovered from
  /// the journal: it is the record of what arrived, kept for audit and replay.)
  std::uint64_t prune_journal(std::int64_t now_ms, std::chrono::milliseconds max_age,
                              std::uint64_t max_bytes);
  /// Bytes of raw messages in the journal (kept as rows come and go, not summed per call).
  [[nodiscard]] std::uint64_t journal_bytes() const;
  /// Journal rows deleted by retention since the store was opened (by journal() and
  /// prune_journal() alike).
  [[nodiscard]] std::uint64_t journal_rows_pruned() const noexcept { return journal_rows_pruned_; }

  /// The worklist: claims whose current outcome is `result`, open only, ordered by id, after
  /// `after_id`, at most `limit`.
  [[nodiscard]] std::vector<engine::claim_summary> claims_with(model::outcome result,
                                                               std::string_view after_id,
                                                               std::size_t limit) const;
  /// The worklist's list: a page of rows matching `query`, in its order, and how many match.
  /// Indexed on (outcome, closed, held since) and (outcome, closed, date of service); other
  /// orders and filters read the queue's rows of the narrow list table, not the claims.
  [[nodiscard]] claim_page list_claims(const claim_query& query) const;
  /// The list row of one claim, by its key (model::claim_key).
  [[nodiscard]] std::optional<claim_row> claim_row_of(std::string_view claim_key) const;
  /// The keys of the claims whose CLM01 is `clm01` (one per billing provider), in key order:
  /// how a user's claim id, which is CLM01, finds its claim.
  [[nodiscard]] std::vector<std::string> claim_keys_of(std::string_view clm01) const;
  /// The keys of the claims `reference` names, in key order: a CLM01 names the claim of every
  /// billing provider that sent one (several make it ambiguous), a claim key its claim.
  [[nodiscard]] std::vector<std::string> claim_keys_for(std::string_view reference) const;
  /// Open claims of each outcome (indexed by model::outcome), with their oldest start, and the
  /// claims released after a hold since `released_since_ms`.
  [[nodiscard]] std::vector<queue_count> queue_counts() const;
  [[nodiscard]] queue_count released_count(std::int64_t released_since_ms) const;
  /// queue_counts() and released_count() per patient (a cluster worker adds up the patients
  /// of each partition it holds): `open` for each patient's open claims of one outcome,
  /// `released` for its claims released after a hold since `released_since_ms`.
  void for_each_patient_queue_count(
      std::int64_t released_since_ms,
      const std::function<void(std::string_view patient, model::outcome, const queue_count&)>& open,
      const std::function<void(std::string_view patient, const queue_count&)>& released) const;
  /// Every open hold's list row (the charts: by reason, by age).
  void for_each_open_hold(const std::function<void(const claim_row&)>& visit) const;
  /// Releases recorded at or after `since_ms`, oldest first.
  [[nodiscard]] std::vector<release_row> releases_since(std::int64_t since_ms) const;
  /// Every claim record, in the order first saved (the audit).
  void for_each_claim(const std::function<void(const engine::claim_record&)>& visit) const;
  /// A number that changes when claims or their history change: a reader polls it to learn
  /// that the lists changed. The writer counts its own writes; a read-only connection cannot
  /// see that count, so it answers SQLite's data_version, which changes with every commit of
  /// another connection (committed changes only, which is what that connection reads).
  [[nodiscard]] std::uint64_t claim_writes() const;

  /// The stored facts of one resource ("Observation/123"), encoded (model::decode_facts).
  [[nodiscard]] std::optional<std::string> facts_of(std::string_view resource) const;
  /// The same with the partition the row is filed under (set_writing_partition), when it is.
  struct filed_facts {
    std::string body;
    std::optional<std::uint32_t> partition;  ///< nullopt: written outside a stream, or before
  };
  [[nodiscard]] std::optional<filed_facts> filed_facts_of(std::string_view resource) const;
  /// One journaled message by id; nullopt when pruned or unknown.
  [[nodiscard]] std::optional<journal_entry> journal_at(std::int64_t id) const;

  /// Queues a message for a destination (a key already queued there is ignored); returns the
  /// item's id, or 0 when it was ignored.
  std::int64_t enqueue(const outbox_item& item, std::int64_t now_ms);
  /// Pending items due at `now_ms`, oldest first.
  [[nodiscard]] std::vector<outbox_item> due(std::int64_t now_ms, std::size_t limit) const;
  /// Item `id` was delivered at `at_ms` (kept, with that time, until prune_delivered()).
  void delivered(std::int64_t id, std::int64_t at_ms);
  /// Deletes at most `limit` delivered items delivered before `before_ms`, oldest first;
  /// returns how many. A key deleted so is forgotten: queued again, it is sent again.
  std::uint64_t prune_delivered(std::int64_t before_ms, std::size_t limit);
  /// Pending items of `destination` with ids above `after_id`, oldest first, at most `limit`,
  /// whenever they are due (the C ABI's host drains them itself).
  [[nodiscard]] std::vector<outbox_item> pending(std::uint32_t destination, std::int64_t after_id,
                                                 std::size_t limit) const;
  /// Deletes item `id` of `destination` (its host acknowledged it); false when there was none.
  bool remove(std::int64_t id, std::uint32_t destination);
  /// Records a failed attempt: retried at `next_ms`, or dead-lettered when `dead`.
  void failed(std::int64_t id, std::int64_t next_ms, bool dead, std::string_view error);
  /// The outbox's items by state, as triggers keep them counted (a read of a few rows, not a
  /// count of the items).
  [[nodiscard]] outbox_counts outbox() const;
  static constexpr std::string_view outbox_count_query = "SELECT state, items FROM outbox_states";
  /// The earliest time a pending item is due, if any.
  [[nodiscard]] std::optional<std::int64_t> next_due() const;
  /// Items in `state` ("pending", "delivered", "dead"; "" for any) with ids above `after_id`,
  /// by id, at most `limit`.
  [[nodiscard]] std::vector<outbox_entry> outbox_entries(std::string_view wanted,
                                                         std::int64_t after_id,
                                                         std::size_t limit) const;
  [[nodiscard]] std::optional<outbox_entry> outbox_entry_of(std::int64_t id) const;
  /// Makes a dead (or pending) item pending again, due at `now_ms`, with its attempts counted
  /// from 0 (its last error is kept until the next attempt); a delivered one is left alone.
  retry_result retry(std::int64_t id, std::int64_t now_ms);

  /// When the oldest open hold began (Unix milliseconds): for each open held claim the time of
  /// its latest event (for a held claim, the hold or reopening its current outcome began with),
  /// the earliest of those; nullopt when nothing is held. A seek per held outcome in the list's
  /// index (claim_list_since), whatever the number of holds.
  [[nodiscard]] std::optional<std::int64_t> oldest_hold_ms() const;
  /// The query oldest_hold_ms() runs, public so that a test can ask SQLite how it runs it
  /// (EXPLAIN QUERY PLAN): `GET /metrics` reads it under the gate's lock. The held outcomes
  /// are listed (IN), not "outcome <> release": a range on the index's first column would make
  /// SQLite walk every open claim for the minimum. A claim without events (since_ms 0) has no
  /// hold to date.
  static constexpr std::string_view oldest_hold_query =
      "SELECT MIN(since_ms) FROM claim_list WHERE outcome IN (1, 2, 3, 4) AND closed = 0 AND "
      "since_ms > 0";

  /// Copies committed pages from the WAL into the database file, from a connection of its
  /// own, so the writer never stalls on it (automatic checkpoints are off). Safe to call from
  /// another thread than the one writing. No-op for an in-memory store. Once the WAL holds
  /// `restart_past_frames` frames and all were copied, the next transaction starts it over.
  /// Throws store_error when a checkpoint could not sync the WAL or the database file; from
  /// then on no checkpoint runs in this store (nor the one SQLite runs on close), so the WAL
  /// keeps every commit for the next start. Any other failure (a full disk, say) leaves the
  /// copy to the next call, and its reason is returned; busy is no failure.
  std::optional<std::string> checkpoint(int restart_past_frames = restart_wal_frames);
  /// From now on checkpoint()'s PASSIVE copy writes the pages it copies back to the disk as it
  /// goes (store/paced_writeback_vfs.hpp), and waits for them: for a store whose checkpoints
  /// run on a thread of their own (serve's), so that a commit's WAL sync never waits behind
  /// a burst of the database's pages. Call before that thread starts. No-op in memory.
  void pace_checkpoints();
  static constexpr int restart_wal_frames = 16384;  // 64 MB of 4 KB pages

  /// Size of the database files in bytes.
  [[nodiscard]] std::uint64_t file_bytes() const;

  /// One prepared statement (defined in the store's private src/store/sqlite_statement.hpp;
  /// named here so the store's implementation files can use it).
  class statement;

 private:
  statement& prepared(std::string_view sql) const;
  void exec(const char* sql);
  void open(int flags, const char* vfs = nullptr);  // db_; vfs null: the default
  // The schema, its upgrades, the checkpointer's connection and the counters: what a store
  // opened for writing needs before its first use.
  void prepare_for_writing(bool synchronous_full);
  void close_connections() noexcept;  // idempotent: the destructor's, or a failed open's
  // Runs what an open does after its first connection; if that throws, the connections are
  // closed and a store error names the file.
  void closing_on_failure(const std::function<void()>& prepare);
  void read_counters();  // next_seq_, next_fact_seq_ and the journal's figures from the tables
  void count_journal();  // journal_bytes_ and next_journal_id_ from the table
  void save_row(const engine::claim_record_view& record);
  void bind_partition(statement& s, int at) const;  // writing_partition_, or NULL
  // Re-keys the claims written before claims were keyed by CLM01 and billing NPI (at the
  // first start of this version, and after a snapshot an older worker wrote is loaded).
  void key_claims_by_billing_provider();
  // Rebuilds an outbox from before its ids were AUTOINCREMENT (once, at open).
  void number_outbox_items_once();
  // Counts the outbox's items by state into outbox_states, kept so by triggers from then on
  // (created when missing); at every read-write open.
  void count_outbox_states();
  void fill_claim_list();  // a store written before the list table: its rows from the claims
  /// Deletes the oldest journal rows (ids below `before_id` only) until the journal's bytes
  /// fit `max_bytes`; returns the rows deleted.
  std::uint64_t prune_journal_bytes(std::uint64_t max_bytes, std::int64_t before_id);
  std::uint64_t delete_journal_before(std::int64_t end_id);

  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  sqlite3* checkpointer_ = nullptr;  // second connection, used only by checkpoint()
  mutable std::vector<std::pair<std::string, std::unique_ptr<statement>>> statements_;
  std::int64_t next_seq_ = 0;
  std::int64_t next_fact_seq_ = 0;
  std::uint64_t journal_bytes_ = 0;  // kept as rows come and go: metrics read it often
  std::int64_t next_journal_id_ = 1;
  std::uint64_t journal_limit_ = 0;
  std::uint64_t journal_rows_pruned_ = 0;
  std::uint64_t claim_writes_ = 0;
  bool read_only_ = false;
  bool sync_deferred_ = false;
  void open_synced_file();   // under sync_mutex_: the WAL's, or the database file's
  std::mutex sync_mutex_;    // sync(): its descriptor, and the directory's sync once
  int synced_fd_ = -1;       // sync(): kept from defer_sync() on
  int writeback_fd_ = -1;    // pace_checkpoints(): the database file's, to pace its writeback
  std::string synced_name_;  // of that file, for errors
  std::atomic<bool> directory_synced_{false};
  std::atomic<bool> checkpoints_stopped_{false};  // a checkpoint failed: never again
  std::optional<std::uint32_t> writing_partition_;
};

}  // namespace covgate::store
