// The worklist's lists across a cluster (docs/cluster.md §5h): GET /claims on a front. The
// front reads the query from the URL as one server does and sends it to every worker at once
// (core NATS, subject cg.q.claims, a reply inbox in Cg-Reply-To). Each worker lists the
// claims of the partitions it holds now and has caught up (Cg-Caught-Up): how many match in
// each of those partitions, and its first `limit` rows over them in the query's order. The
// front takes each partition from the first answer naming it, as the counts do (a stale
// copy of a partition another worker answers for is left out), adds the totals up and keeps
// the first `limit` rows of all the pages in the query's order: the page one server with
// every partition would list, and a cursor that pages on alike.
#pragma once

#include <chrono>
#include <cstdint>
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

/// What a front asks: the query as it read it, and the time every worker ages the rows at.
struct claim_list_request {
  store::claim_query query;
  std::int64_t now_ms = 0;
};

/// One "name=value" line per field set (texts in hex). Pure.
[[nodiscard]] std::string encode_claim_list_request(const claim_list_request& request);
/// Its reading; nullopt for anything else (an unknown or repeated name, a value out of range,
/// a limit outside 1 to 10,000).
[[nodiscard]] std::optional<claim_list_request> decode_claim_list_request(std::string_view text);

/// One row of a worker's page: its partition, the value it sorts by (claims_view's
/// sort_value_of), its id and its JSON as one server lists it.
struct listed_claim {
  int partition = 0;
  std::string sort_value;
  std::string id;
  std::string json;
};

/// A worker's page: per partition it answers for, how many claims match (a partition of none
/// may be left out), and its first `limit` rows over those partitions, in the query's order.
struct claim_list_page {
  std::map<int, std::uint64_t> totals;
  std::vector<listed_claim> rows;
};

/// The totals' line, then one line per row (partition, sort value and id in hex, the JSON,
/// tab-separated). Pure.
[[nodiscard]] std::string encode_claim_list_page(const claim_list_page& page);
/// Its reading; nullopt for anything else (a partition out of range, a damaged line).
[[nodiscard]] std::optional<claim_list_page> decode_claim_list_page(std::string_view text,
                                                                    int partitions);

/// Whether `a` comes before `b` in the order a query asks for: by sort value (as numbers for
/// the numeric keys, store::sorts_as_number; else byte by byte, as SQLite compares), then by
/// id; reversed for a descending sort. Pure.
[[nodiscard]] bool listed_before(const listed_claim& a, const listed_claim& b,
                                 store::claim_sort sort, bool descending);

/// The pages of several workers merged. Pure.
class claim_list_merge {
 public:
  claim_list_merge(store::claim_sort sort, bool descending, std::size_t limit)
      : sort_(sort), descending_(descending), limit_(limit) {}
  /// A worker's page; only its rows and totals of `fresh` partitions (those no earlier page
  /// answered for) count.
  void add(const claim_list_page& page, const std::vector<int>& fresh);
  [[nodiscard]] std::uint64_t total() const noexcept { return total_; }
  /// The first `limit` rows of every page added, in the query's order.
  [[nodiscard]] std::vector<listed_claim> rows() const;

 private:
  store::claim_sort sort_;
  bool descending_;
  std::size_t limit_;
  std::uint64_t total_ = 0;
  std::vector<listed_claim> rows_;
};

struct claim_list_result {
  bool complete = false;    ///< every partition answered for
  std::uint64_t total = 0;  ///< matching claims in the answered partitions
  std::vector<listed_claim> rows;
  std::vector<int> uncovered;  ///< not complete: partitions no caught-up holder answered for
  int answers = 0;
};

/// Asks every worker for its page of `request` and merges them; waits until the answers name
/// all `partitions`, at most `wait`. Thread-safe; throws nats_error when the request cannot be
/// sent.
[[nodiscard]] claim_list_result gather_claim_list(jetstream& js, std::string_view requester,
                                                  const claim_list_request& request, int partitions,
                                                  std::chrono::milliseconds wait);

/// A worker's answer: its page and the partitions it answers for.
struct claim_list_answer {
  claim_list_page page;
  std::vector<int> caught_up;
};

/// A worker's side of cg.q.claims: `answer` runs on the responder's thread; a request that
/// does not decode is answered with no partition.
class claim_list_responder {
 public:
  claim_list_responder(jetstream& js, std::string worker,
                       std::function<claim_list_answer(const claim_list_request&)> answer);
  /// Joins the thread (within about 200 ms). Idempotent; destruction stops it too.
  void stop();

 private:
  partition_query_responder responder_;
};

}  // namespace covgate::cluster
