// A question every worker answers for the partitions it holds now and has caught up (core
// NATS request to all, replies to an inbox of the asker): the mechanism of a claim lookup
// (claim_lookup.hpp, §5g) and of the worklist's counts (worklist_query.hpp, §5h). Each answer
// carries Cg-Worker and Cg-Caught-Up ("0,3,5"); the asker knows the whole cluster has answered
// once the answers between them name every partition.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "covgate/cluster/nats_client.hpp"

namespace covgate::cluster {

/// "0,3,5": the Cg-Caught-Up header of an answer.
[[nodiscard]] std::string partition_list(const std::vector<int>& partitions);
/// Its reading; an item that is not a partition number is skipped (a newer or broken peer).
[[nodiscard]] std::vector<int> parse_partition_list(std::string_view text);

struct partition_query_result {
  bool stopped = false;        ///< the handler asked to stop
  bool complete = false;       ///< the answers named every partition
  std::vector<int> uncovered;  ///< neither: the partitions no answer named
  int answers = 0;             ///< replies received, from every ask
  int asks = 0;  ///< times the question was sent (again while a partition is uncovered)
};

/// Sends `body` on `subject` to every worker and hands each answer to `on_answer` with the
/// partitions it names that no earlier answer named (`fresh`, ascending), until `on_answer`
/// returns true, the answers name all `partitions`, or `wait` passes. While some partition is
/// uncovered the question is sent again (after 250 ms, then at doubling intervals), so a
/// worker that finishes catching a partition up during the wait is heard: a worker may
/// answer several times, and `on_answer` sees each answer (with `fresh` empty for what was
/// named before). Thread-safe (an inbox per call); throws nats_error when a request cannot
/// be sent. `headers` go on the question beside Cg-Reply-To (what the asker can take, for one).
partition_query_result ask_every_partition(
    jetstream& js, std::string_view requester, const std::string& subject, std::string_view body,
    int partitions, std::chrono::milliseconds wait,
    const std::function<bool(const fetched_message&, const std::vector<int>& fresh)>& on_answer,
    const std::vector<message_header>& headers = {});

/// A worker's side: answers every message on `subject` that names a reply subject, on a thread
/// of its own, from construction until stop() or destruction. `answer` returns the body and
/// the headers (Cg-Worker is added). An `answer` that throws (a store that cannot be read
/// now) leaves that question unanswered: the asker counts this worker's partitions as not
/// known, as for a worker still catching up, and the thread goes on to the next question.
class partition_query_responder {
 public:
  struct reply {
    std::string body;
    std::vector<message_header> headers;
  };
  partition_query_responder(jetstream& js, std::string subject, std::string worker,
                            std::function<reply(const fetched_message&)> answer);
  /// Answers each question with several replies (none, one per partition, …), sent in order;
  /// the asker hears each as an answer of its own.
  partition_query_responder(jetstream& js, std::string subject, std::string worker,
                            std::function<std::vector<reply>(const fetched_message&)> answers);
  ~partition_query_responder();  ///< stop()
  partition_query_responder(const partition_query_responder&) = delete;
  partition_query_responder& operator=(const partition_query_responder&) = delete;
  /// Joins the thread (within about 200 ms). Idempotent.
  void stop();

 private:
  void run();

  jetstream& js_;
  std::string subject_;
  std::string worker_;
  std::function<std::vector<reply>(const fetched_message&)> answers_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace covgate::cluster
