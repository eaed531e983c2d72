// The documentation audit across a cluster (docs/cluster.md §5h): GET /audit/csii on a front.
// The audit reads every patient of a store, and each worker holds some partitions, so the
// front asks every worker at once (core NATS, subject cg.q.audit, a reply inbox in
// Cg-Reply-To). A worker answers one message per partition it holds now and has caught up
// (Cg-Caught-Up names that one partition), its body the partition's rows as the asker wants
// them written (server::encode_audit_rows: opaque here). The asker takes each partition from
// the first answer naming it, as every partition question does (partition_query.hpp), and
// puts the rows together itself.
//
// Rows larger than one NATS message go in chunks, when the question says the asker puts them
// together (Cg-Chunked: 1; an asker from before chunks would take the last chunk for the
// whole). Each chunk carries Cg-Audit-Partition, Cg-Chunk (from 0) and Cg-Chunks; only the
// last carries Cg-Caught-Up, so the partition counts as answered once every chunk has been
// sent. One worker's replies reach one inbox in the order sent (core NATS keeps the order of
// one connection's messages to one subscriber), so the asker appends them as they come and
// checks that none is missing.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/cluster/nats_client.hpp"
#include "covgate/cluster/partition_query.hpp"

namespace covgate::cluster {

/// The most bytes of rows sent in one answer: NATS refuses a message past the server's
/// max_payload (1 MiB by default), and the headers need room too.
inline constexpr std::size_t max_audit_part_bytes = 1'000'000;
/// The most bytes of one partition's rows sent at all, in chunks of max_audit_part_bytes: the
/// front holds every partition's rows at once to merge them. A partition whose rows are larger
/// (or larger than one chunk, to an asker that does not take chunks) is answered with
/// Cg-Too-Large (its size) and no rows.
inline constexpr std::size_t max_audit_partition_bytes = 64 * max_audit_part_bytes;

struct audit_parts_result {
  bool complete = false;                 ///< every partition answered for (rows or too large)
  std::map<int, std::string> rows;       ///< each partition's rows as its holder sent them
  std::map<int, std::size_t> too_large;  ///< partitions whose rows did not fit, their sizes
  /// Partitions whose last chunk came without every chunk before it (a reply lost on the way):
  /// answered for, but their rows are not known; asking again may get them.
  std::vector<int> broken;
  std::vector<int> uncovered;  ///< partitions no caught-up holder answered for
  int answers = 0;
};

/// A partition's rows as the replies that carry them: one, or chunks of at most `chunk` bytes
/// when `chunked` (the asker takes chunks), or one with Cg-Too-Large. Pure; for the responder
/// and its tests.
[[nodiscard]] std::vector<partition_query_responder::reply> audit_replies(
    int partition, std::string rows, bool chunked, std::size_t chunk = max_audit_part_bytes,
    std::size_t limit = max_audit_partition_bytes);

/// Sends `request` (the audit's date and format, as the workers read them) on cg.q.audit and
/// gathers every partition's rows, each once, until all `partitions` are answered for or
/// `wait` passes. Thread-safe; throws nats_error when the request cannot be sent.
[[nodiscard]] audit_parts_result gather_audit_parts(jetstream& js, std::string_view requester,
                                                    std::string_view request, int partitions,
                                                    std::chrono::milliseconds wait);

/// A worker's side of cg.q.audit: `answer(request)` gives the rows of each partition it holds
/// now and has caught up (a partition of no CSII patient and no listed claim with empty rows,
/// still answered, so that the asker knows it is covered); it runs on the responder's thread.
class audit_parts_responder {
 public:
  audit_parts_responder(jetstream& js, std::string worker,
                        std::function<std::map<int, std::string>(std::string_view)> answer);
  /// Joins the thread (within about 200 ms). Idempotent; destruction stops it too.
  void stop();

 private:
  partition_query_responder responder_;
};

}  // namespace covgate::cluster
