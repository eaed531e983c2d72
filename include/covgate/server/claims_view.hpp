// The claims read model of `covgate serve`, as JSON for the worklist: the list (filtered,
// sorted, paged by keyset), the queues with their counts and oldest holds, the charts, one
// claim with its lines, reasons, evidence, timeline and raw message, the facts of one
// resource, and a version a page polls to learn that something changed. Everything is read
// under the durable gate's lock; every string goes out through model::json_writer (and so
// covgate::boundary). Times are ISO 8601 in UTC.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/model/reason.hpp"
#include "covgate/server/durable_gate.hpp"

namespace covgate::server {

/// The queues a reviewer works, in the order the page shows them.
enum class queue : std::uint8_t { documentation, review, not_covered, invalid, released };

/// What GET /queues counts, by queue (in enum order).
using queue_counts = store::worklist_counts;

/// What GET /charts counts: open holds by reason and by age bucket (per hold outcome), and
/// releases per day (by a reviewer, by evidence, as a first answer), for the `days` days up
/// to `now_ms`. Counts of several stores add up (a cluster front's, partition by partition).
class chart_counts {
 public:
  static constexpr std::size_t age_buckets = 5;
  chart_counts(std::int64_t now_ms, int days);
  void add_hold(const store::claim_row& open_hold);
  void add_release(const store::release_row& release);
  /// Every count in one row of numbers (reasons, ages, days), and their addition to these;
  /// false, adding nothing, for a row of another length.
  [[nodiscard]] std::vector<std::uint64_t> numbers() const;
  bool add_numbers(std::span<const std::uint64_t> numbers);
  [[nodiscard]] static std::size_t numbers_per_chart(std::size_t days) noexcept;
  [[nodiscard]] std::int64_t now_ms() const noexcept { return now_ms_; }
  [[nodiscard]] std::int64_t first_day_ms() const noexcept { return first_day_ms_; }

  std::array<std::uint64_t, model::reason_count> by_reason{};
  std::array<std::array<std::uint64_t, age_buckets>, 4> by_age{};  // per hold outcome
  std::vector<std::array<std::uint64_t, 3>> by_day;  // by reviewer, by evidence, first answer

 private:
  std::int64_t now_ms_;
  std::int64_t first_day_ms_;
};

/// "documentation", "review", "not-covered", "invalid", "released".
[[nodiscard]] std::string_view name(queue q) noexcept;
[[nodiscard]] std::optional<queue> queue_named(std::string_view text) noexcept;

/// What a cluster front needs to act on a claim a holder answered with: its patient (member id,
/// "current"."patient"), naming the partition a reviewer's action is routed to, and its key
/// (model::claim_key: "claim"."id" and "claim"."billing"."npi"), naming the claim exactly.
/// Either is "" when the text is not such a claim.
struct claim_names {
  std::string patient;
  std::string key;
};
[[nodiscard]] claim_names names_of_claim_json(std::string_view claim_json);

/// How claim_json names the messages a claim's events came from ("message").
struct message_naming {
  /// false: by this store's journal id (this server's GET /messages/{id}). true: by the
  /// sequence of the stream message that carried it (a cluster front's GET /messages/{id}
  /// reads the stream: docs/cluster.md §5g); for a worker answering a front.
  bool by_stream = false;
  /// By stream: a message of a partition from this one on (reference data, carried by
  /// another stream) is named by neither.
  std::uint32_t stream_partitions = 0;
};

class claims_view {
 public:
  claims_view(durable_gate& gate, const policy::policy_file& policy, const mapping::tables& tables)
      : gate_(gate), policy_(policy), tables_(tables) {}

  /// GET /claims: a page of `query` with the total that match and the cursor of the next
  /// page (`next`, null on the last). With the default order (id) the cursor is the last id,
  /// so `after=ID` pages as it always did.
  [[nodiscard]] std::string list_json(const store::claim_query& query, std::int64_t now_ms);
  /// A list page as list_json() writes it, from rows already written (list_row_json) and
  /// the cursor of the last when the page is full: what a cluster front writes from the
  /// workers' pages (docs/cluster.md §5h).
  [[nodiscard]] static std::string list_json(const store::claim_query& query, std::uint64_t total,
                                             const std::vector<std::string>& rows_json,
                                             const std::optional<std::string>& next);
  /// One row of a list page, and the value it sorts by under `sort` (a number in decimal for
  /// the numeric keys, store::sorts_as_number).
  [[nodiscard]] static std::string list_row_json(const store::claim_row& row, std::int64_t now_ms);
  [[nodiscard]] static std::string sort_value_of(const store::claim_row& row,
                                                 store::claim_sort sort);
  /// The cursor list_json() hands out for a row, and its reading (nullopt: not one of ours).
  [[nodiscard]] static std::string cursor_of(const store::claim_row& row, store::claim_sort sort);
  [[nodiscard]] static std::string cursor_of(std::string_view sort_value, std::string_view id,
                                             store::claim_sort sort);
  [[nodiscard]] static std::optional<std::pair<std::string, std::string>> read_cursor(
      std::string_view cursor, store::claim_sort sort);

  /// GET /queues: each queue's count and its oldest hold (time and age in seconds); the
  /// released queue counts releases after a hold within `released_window_ms`.
  [[nodiscard]] std::string queues_json(std::int64_t now_ms, std::int64_t released_window_ms);
  /// The same answer for counts gathered elsewhere (a cluster front adds up the workers').
  [[nodiscard]] static std::string queues_json(const queue_counts& counts, std::int64_t now_ms,
                                               std::int64_t released_window_ms);
  /// The counts of one store, as queues_json() reads them.
  [[nodiscard]] static queue_counts queue_counts_of(const store::sqlite_store& store,
                                                    std::int64_t now_ms,
                                                    std::int64_t released_window_ms);
  /// GET /charts: open holds by reason and by age bucket, releases per day over `days` days.
  [[nodiscard]] std::string charts_json(std::int64_t now_ms, int days);
  /// The same answer for counts gathered elsewhere (a cluster front adds up the workers').
  [[nodiscard]] static std::string charts_json(const chart_counts& counts);
  /// Adds one store's open holds and releases to `counts`.
  static void add_charts(const store::sqlite_store& store, chart_counts& counts);
  /// The same, each claim to the counts `of_patient` names for its patient (nullptr: left
  /// out), the releases from `first_day_ms` on (every counts' first day).
  static void add_charts(const store::sqlite_store& store, std::int64_t first_day_ms,
                         const std::function<chart_counts*(std::string_view patient)>& of_patient);
  /// GET /changes: {"version": "..."}; it changes whenever a claim or its history does.
  /// What GET /changes says: "<start ms>-<claim writes>", which moves whenever a claim does.
  [[nodiscard]] std::string version();
  /// GET /changes of a cluster front, from a version the workers' versions make.
  [[nodiscard]] static std::string changes_json(std::string_view version);
  [[nodiscard]] std::string changes_json();

  /// The keys (model::claim_key) of the claims `reference` names, in key order: a CLM01
  /// names the claim of every billing provider that sent one (several make it ambiguous), a
  /// claim key names its claim. Empty when none is held.
  [[nodiscard]] std::vector<std::string> claim_keys_for(std::string_view reference);
  /// GET /claims/{id}: the claim (lines with procedure, modifiers and charge), its current
  /// decision, every reason with its sentence and the facts it cites, the CSII documentation
  /// on the date of service, the history as a timeline; nullopt if unknown. By its key
  /// (model::claim_key).
  [[nodiscard]] std::optional<std::string> claim_json(std::string_view claim_key,
                                                      std::int64_t now_ms,
                                                      message_naming naming = {});
  /// GET /messages/{id}: one journaled message (raw) with where and when it arrived; nullopt
  /// when pruned or unknown.
  [[nodiscard]] std::optional<std::string> message_json(std::int64_t journal_id);
  /// A message as GET /messages/{id} writes it (`received_bytes` 0: the body's length).
  [[nodiscard]] static std::string message_json_of(const store::journal_entry& message);

  enum class lookup : std::uint8_t { found, retracted, unknown };
  /// GET /fhir/{type}/{id}: the facts covgate keeps of that resource, as a FHIR resource
  /// holding the elements it read (`found`), or why not.
  [[nodiscard]] lookup fhir_resource_json(std::string_view type, std::string_view id,
                                          std::string& out);
  /// The same from a facts row already read (`encoded`, model::encode_facts): what a cluster
  /// worker answers a front's lookup with. `unknown` also for a row that does not decode.
  [[nodiscard]] static lookup fhir_resource_of(std::string_view type, std::string_view id,
                                               std::string_view encoded, std::string& out);

 private:
  durable_gate& gate_;
  const policy::policy_file& policy_;
  const mapping::tables& tables_;
  std::int64_t started_ms_ = durable_gate::now_ms();
};

}  // namespace covgate::server
