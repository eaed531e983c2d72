// The worklist's counts across a cluster (docs/cluster.md §5h): GET /queues on a front. Each
// worker keeps the claims of the partitions it holds, and perhaps stale copies of partitions it
// held before, so the counts are asked of every worker at once (core NATS, subject
// cg.q.queues, a reply inbox in Cg-Reply-To) and each answers partition by partition for the
// partitions it holds now and has caught up (Cg-Caught-Up, as a claim lookup's answer, §5g).
// The asker takes each partition from the first answer naming it (two workers that both
// believe they hold a partition during a handover are not counted twice) and has the whole
// cluster's counts once the answers name every partition; otherwise it says which partitions
// no caught-up holder answered for.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/cluster/nats_client.hpp"
#include "covgate/cluster/partition_query.hpp"
#include "covgate/store/sqlite_store.hpp"

namespace covgate::cluster {

/// One partition's queue counts, in the worklist's queue order (documentation, review, not
/// covered, invalid, released after a hold within the window).
using queue_counts = store::worklist_counts;
using partition_queue_counts = std::map<int, queue_counts>;

/// "p:count,oldest,…;…" for each partition (ten numbers each, in queue order). Pure.
[[nodiscard]] std::string encode_queue_counts(const partition_queue_counts& counts);
/// The reading of encode_queue_counts(); nullopt for anything else (a negative count, a
/// partition out of range, a number missing).
[[nodiscard]] std::optional<partition_queue_counts> decode_queue_counts(std::string_view text,
                                                                        int partitions);

struct queue_counts_result {
  bool complete = false;       ///< every partition answered for
  queue_counts total{};        ///< the answered partitions' counts, added up
  std::vector<int> uncovered;  ///< partitions no caught-up holder answered for (not complete)
  int answers = 0;
};

/// Asks every worker for its partitions' counts of open claims by queue and of claims
/// released after a hold since `released_since_ms`; waits until the answers name all
/// `partitions`, at most `wait`. Thread-safe; throws nats_error when the request cannot be sent.
[[nodiscard]] queue_counts_result gather_queue_counts(jetstream& js, std::string_view requester,
                                                      std::int64_t released_since_ms,
                                                      int partitions,
                                                      std::chrono::milliseconds wait);

/// A worker's answer: its partitions' counts (those it holds now and has caught up; a
/// partition of no claim may be left out) and which partitions those are.
struct queue_counts_answer {
  partition_queue_counts counts;
  std::vector<int> caught_up;
};

/// GET /charts across the cluster the same way (subject cg.q.charts): each partition's chart
/// counts as one row of numbers, which the asker adds up partition by partition.
using partition_numbers = std::map<int, std::vector<std::uint64_t>>;

/// "p:n,n,…;" for each partition. Pure.
[[nodiscard]] std::string encode_partition_numbers(const partition_numbers& rows);
/// Its reading, each row `width` numbers long; nullopt for anything else.
[[nodiscard]] std::optional<partition_numbers> decode_partition_numbers(std::string_view text,
                                                                        int partitions,
                                                                        std::size_t width);

struct numbers_result {
  bool complete = false;
  std::vector<std::uint64_t> total;  ///< the answered partitions' rows, added up
  std::vector<int> uncovered;
  int answers = 0;
};

/// Sends `request` (what each worker needs to count alike: the time, the days) on
/// cg.q.charts and adds up the rows of `width` numbers of every partition, each once.
[[nodiscard]] numbers_result gather_chart_numbers(jetstream& js, std::string_view requester,
                                                  std::string_view request, int partitions,
                                                  std::size_t width,
                                                  std::chrono::milliseconds wait);

struct partition_numbers_answer {
  partition_numbers rows;
  std::vector<int> caught_up;
};

/// A worker's side of cg.q.charts: `answer(request)` runs on the responder's thread.
class chart_numbers_responder {
 public:
  chart_numbers_responder(jetstream& js, std::string worker,
                          std::function<partition_numbers_answer(std::string_view)> answer);
  /// Joins the thread (within about 200 ms). Idempotent; destruction stops it too.
  void stop();

 private:
  partition_query_responder responder_;
};

/// A worker's side: answers every request on its own thread until stop() or destruction;
/// `answer(released_since_ms)` runs on that thread.
class queue_counts_responder {
 public:
  queue_counts_responder(jetstream& js, std::string worker,
                         std::function<queue_counts_answer(std::int64_t)> answer);
  /// Joins the thread (within about 200 ms). Idempotent; destruction stops it too.
  void stop();

 private:
  partition_query_responder responder_;
};

/// GET /changes across the cluster (subject cg.q.changes): each worker answers the version of
/// its store (claims_view::version, which moves whenever one of its claims does) with the
/// partitions it answers for. The cluster's version is made of the versions of the workers
/// that answered for a partition first, in the order of their names (a worker answering for
/// none, such as one that just joined, does not change it).
struct changes_result {
  bool complete = false;  ///< every partition answered for
  std::string version;    ///< 16 hex digits (FNV-1a of "worker=version;" in name order)
  std::vector<int> uncovered;
  int answers = 0;
};
[[nodiscard]] changes_result gather_changes(jetstream& js, std::string_view requester,
                                            int partitions, std::chrono::milliseconds wait);

/// A worker's side of cg.q.changes: `answer` gives its store's version and the partitions it
/// holds now and has caught up; it runs on the responder's thread.
class changes_responder {
 public:
  changes_responder(jetstream& js, std::string worker,
                    std::function<std::pair<std::string, std::vector<int>>()> answer);
  /// Joins the thread (within about 200 ms). Idempotent; destruction stops it too.
  void stop();

 private:
  partition_query_responder responder_;
};

}  // namespace covgate::cluster
