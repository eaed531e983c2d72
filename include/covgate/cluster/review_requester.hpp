// A worker's side of a reviewer's action in a cluster (docs/cluster.md §5e): the HTTP request
// reaches one worker, the claim's partition may be held by another (or by this one), and the
// action must be in CG_IN to survive a rebuild. So the action is published as a review message
// (review_message.hpp) on the patient's subject, with a reply subject of this process, and the
// request is answered with what the holder of the partition replies once the action is
// durable in its store.
//
// One thread publishes the requests in arrival order and collects the replies: a bulk action
// of 500 claims is published at once and answered as the replies come, not one round trip at
// a time. A request that is not taken by the cluster (publish retries exhausted) or not
// answered within the deadline is answered `unavailable`; it may still be applied later (the
// stream has it), which the reviewer sees when asking again (a second cancel of a claim is
// `already_closed`).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "covgate/cluster/nats_client.hpp"
#include "covgate/cluster/review_message.hpp"

namespace covgate::cluster {

struct review_requester_settings {
  std::string worker;      ///< this worker's id (is_worker_id): names the inbox and message ids
  std::string key_secret;  ///< the cluster's partition key secret
  /// From the request to the holder's answer, at most (publish retries included).
  std::chrono::milliseconds answer_timeout{10'000};
};

class review_requester {
 public:
  /// `js` outlives the requester. Subscribes to its reply inbox and starts its thread. Throws
  /// nats_error when the subscription cannot be made, std::invalid_argument for a bad worker
  /// id or an empty secret.
  review_requester(jetstream& js, review_requester_settings settings);
  ~review_requester();  ///< stop()
  review_requester(const review_requester&) = delete;
  review_requester& operator=(const review_requester&) = delete;

  /// Publishes `review` for the patient `patient_key` (the claim's member id, as the front
  /// keys it) and calls `done` once, from the requester's thread (or this one when stopped
  /// or the fields are beyond their limits: `malformed`), with the holder's answer.
  void request(std::string_view patient_key, review_message review,
               std::function<void(review_answer)> done);

  /// Answers what is waiting `unavailable` and joins the thread. Idempotent.
  void stop();

 private:
  struct queued {
    std::string subject;
    std::string body;
    std::chrono::steady_clock::time_point deadline;  ///< from the request on
    std::function<void(review_answer)> done;
  };
  struct waiting {
    std::chrono::steady_clock::time_point deadline;
    std::function<void(review_answer)> done;
  };

  void run();
  void publish(queued q, std::uint64_t number);
  void collect(std::chrono::milliseconds wait);
  void expire(std::chrono::steady_clock::time_point now);

  jetstream& js_;
  review_requester_settings settings_;
  const std::string nonce_;
  const std::string inbox_;  // "_INBOX.cgr.<worker>.<nonce>."
  message_reader replies_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<queued> queue_;                  // under mutex_
  bool stopping_ = false;                     // under mutex_
  std::map<std::uint64_t, waiting> waiting_;  // the thread's own
  std::uint64_t next_number_ = 1;             // the thread's own
  std::thread thread_;                        // last: starts once the rest exists
};

}  // namespace covgate::cluster
