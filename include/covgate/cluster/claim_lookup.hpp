// GET /claims/{id} across a cluster (docs/cluster.md §5g). A claim lives in the store of the
// worker holding its patient's partition; a front keeps nothing, and a worker may hold a stale
// copy of a claim whose partition moved on. So a lookup is asked of every worker at once (core
// NATS, subject cg.q.claim, the claim id as the body, a reply inbox in Cg-Reply-To), and each
// answers: the holder with the claim (Cg-Held: yes), every other worker "not mine"
// (Cg-Held: no), each naming the partitions it holds now and has caught up (Cg-Caught-Up:
// "0,3,5"). The asker takes the first holder's answer. The claim is unknown only once the
// "not mine" answers between them name every partition: a partition whose holder died, or
// whose new holder is still catching it up, may hold the claim, and then the cluster cannot
// say yet.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/cluster/nats_client.hpp"
#include "covgate/cluster/partition_query.hpp"

namespace covgate::cluster {

/// The longest claim id a lookup carries (CLM01 is at most 38 characters; generous).
inline constexpr std::size_t max_lookup_claim_id = 256;

struct claim_lookup_result {
  enum class status : std::uint8_t {
    found,        ///< `body` is the holder's answer
    unknown,      ///< none holds it, and their answers named every partition
    unavailable,  ///< no holder answered, and some partition had no caught-up holder that did
  };
  status how = status::unavailable;
  std::string body;
  std::string worker;                    ///< who answered (found)
  int answers = 0;                       ///< replies received
  std::vector<std::string> not_held_by;  ///< the workers that answered "not mine"
  std::vector<int> uncovered;            ///< unavailable: partitions no answer named
};

/// A worker's answer to a lookup: the claim when it holds the claim's partition now and has
/// caught it up, and the partitions it holds now and has caught up.
struct claim_lookup_answer {
  std::optional<std::string> claim;
  std::vector<int> caught_up;
};

/// Asks the workers for `claim_id` and waits for the holder, or for "not mine" answers that
/// name every one of the cluster's `partitions`, at most `wait`. Thread-safe (one inbox per
/// call); `js` outlives the call. Throws nats_error when the request cannot be sent.
[[nodiscard]] claim_lookup_result look_up_claim(jetstream& js, std::string_view requester,
                                                std::string_view claim_id, int partitions,
                                                std::chrono::milliseconds wait);

/// A worker's side: answers every lookup on its own thread, from construction until stop() or
/// destruction; `answer(claim_id)` is called from the responder's thread.
class claim_lookup_responder {
 public:
  claim_lookup_responder(jetstream& js, std::string worker,
                         std::function<claim_lookup_answer(std::string_view)> answer);
  /// Joins the thread (within about 200 ms). Idempotent; destruction stops it too.
  void stop();

 private:
  partition_query_responder responder_;
};

}  // namespace covgate::cluster
