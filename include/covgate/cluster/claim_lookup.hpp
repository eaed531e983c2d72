// GET /claims/{id} across a cluster (docs/cluster.md §5g). A claim lives in the store of the
// worker holding its patient's partition; a front keeps nothing, and a worker may hold a stale
// copy of a claim whose partition moved on. So a lookup is asked of every worker at once (core
// NATS, subject cg.q.claim, the claim id as the body, a reply inbox in Cg-Reply-To), and each
// answers: the holder with the claim (Cg-Held: yes), every other worker "not mine"
// (Cg-Held: no), each naming the partitions it holds now and has caught up (Cg-Caught-Up:
// "0,3,5"). The asker takes the first holder's answer (asked by CLM01 alone, once every
// partition answered: two billing providers' claims of it make it ambiguous). The claim is
// unknown only once the "not mine" answers between them name every partition: a partition
// whose holder died, or whose new holder is still catching it up, may hold the claim, and
// then the cluster cannot say yet.
//
// A FHIR resource's facts (GET /fhir/{type}/{id}) are looked up the same way on cg.q.fhir,
// with "Type/id" as the body: the holder of the partition the facts are filed under answers
// with the resource (Cg-Held: yes), or that it was retracted (Cg-Held: yes, Cg-Gone: yes).
#pragma once

#include <chrono>
#include <cstddef>
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
    ambiguous,    ///< a CLM01 several billing providers' claims have (`billing_npis`)
  };
  status how = status::unavailable;
  std::string body;
  bool gone = false;                      ///< found: a resource retracted (entered in error)
  std::string worker;                     ///< who answered (found)
  int answers = 0;                        ///< replies received
  std::vector<std::string> not_held_by;   ///< the workers that answered "not mine"
  std::vector<int> uncovered;             ///< unavailable: partitions no answer named
  std::vector<std::string> billing_npis;  ///< ambiguous: the claims' billing NPIs, in order
};

/// A worker's answer to a lookup: the claim when it holds the claim's partition now and has
/// caught it up, and the partitions it holds now and has caught up.
struct claim_lookup_answer {
  std::optional<std::string> claim;
  std::vector<int> caught_up;
  std::string billing_npi;                  ///< `claim`'s billing provider's NPI ("": none)
  std::vector<std::string> also_billed_by;  ///< the other billing NPIs of the CLM01 held here
};

/// Asks the workers for `claim_id` and waits for the holder, or for "not mine" answers that
/// name every one of the cluster's `partitions`, at most `wait`. `claim_id` is a claim's key
/// (model::claim_key) or a CLM01; a CLM01 is asked until every partition answered (or the
/// wait ends), since two billing providers' claims of one CLM01 may lie in two partitions:
/// each holder names its claim's billing NPI (Cg-Billing-Npi) and the other NPIs of that
/// CLM01 it holds (Cg-Also-Billed-By), and more than one NPI is `ambiguous`. Thread-safe (one inbox
/// per call); `js` outlives the call. Throws nats_error when the request cannot be sent.
[[nodiscard]] claim_lookup_result look_up_claim(jetstream& js, std::string_view requester,
                                                std::string_view claim_id, int partitions,
                                                std::chrono::milliseconds wait);

/// The most claim ids one batched lookup asks (its question, at most 257 KB, stays well below
/// a NATS message).
inline constexpr std::size_t max_lookup_batch = 1'000;

/// Several claims in one question (cg.q.claimids, the ids one per line): each worker answers
/// every claim it holds, one reply each (Cg-Held: yes, Cg-Index: the id's place in the
/// question), then one reply naming the partitions it checked every id against (those it held
/// and had caught up throughout). One wait for them all, where look_up_claim waits per claim:
/// during a rebuild, a bulk of claims waits once. `results[i]` is `ids[i]`'s, as look_up_claim
/// would say it (`answers` and `not_held_by` are the whole question's; an empty or too long id
/// is unknown unasked). Throws std::invalid_argument past max_lookup_batch ids, nats_error when
/// the question cannot be sent. A worker of a version before this answers nothing: run this
/// version on every worker before its fronts.
[[nodiscard]] std::vector<claim_lookup_result> look_up_claims(jetstream& js,
                                                              std::string_view requester,
                                                              const std::vector<std::string>& ids,
                                                              int partitions,
                                                              std::chrono::milliseconds wait);

/// The longest "Type/id" a resource lookup carries (a FHIR type and a FHIR id of at most 64).
inline constexpr std::size_t max_lookup_resource = 130;

/// A worker's answer to a resource lookup: the resource (FHIR JSON) or that it was retracted,
/// when it holds the partition its facts are filed under now and has caught it up.
struct resource_lookup_answer {
  std::optional<std::string> resource;
  bool retracted = false;  ///< held, and entered in error: the front answers 410
  std::vector<int> caught_up;
};

/// GET /fhir/{type}/{id} across the workers, as look_up_claim: `resource` is "Type/id".
[[nodiscard]] claim_lookup_result look_up_resource(jetstream& js, std::string_view requester,
                                                   std::string_view resource, int partitions,
                                                   std::chrono::milliseconds wait);

/// A worker's side: answers every lookup, single and batched, on threads of its own, from
/// construction until stop() or destruction; `answer(claim_id)` is called from those threads.
class claim_lookup_responder {
 public:
  claim_lookup_responder(jetstream& js, std::string worker,
                         std::function<claim_lookup_answer(std::string_view)> answer);
  /// Joins the threads (within about 200 ms). Idempotent; destruction stops it too.
  void stop();

 private:
  partition_query_responder responder_;
  partition_query_responder batch_responder_;
};

/// The replies to a batched question `ids_text` (the ids one per line): one per claim held,
/// then the partitions every id was checked against. Pure but for `answer`; for the responder
/// and its tests.
[[nodiscard]] std::vector<partition_query_responder::reply> claim_batch_replies(
    std::string_view ids_text, const std::function<claim_lookup_answer(std::string_view)>& answer);

/// The same for resource lookups; `answer("Type/id")` is called from the responder's thread.
class resource_lookup_responder {
 public:
  resource_lookup_responder(jetstream& js, std::string worker,
                            std::function<resource_lookup_answer(std::string_view)> answer);
  /// Joins the thread (within about 200 ms). Idempotent; destruction stops it too.
  void stop();

 private:
  partition_query_responder responder_;
};

}  // namespace covgate::cluster
