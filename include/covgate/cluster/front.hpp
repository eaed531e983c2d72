// The front of a cluster (docs/cluster.md §5c): takes a message a sender sent over MLLP or
// HTTP, routes it by patient (front_route.hpp), publishes each part on CG_IN with a reply
// subject of its own, waits for the owning workers' answers and assembles one answer for the
// sender, in the sender's standard:
// - X12: per interchange of the input, in order, the TA1/999 the front owes from its own read
//   and then the workers' 277s, part by part (one 277 interchange per patient and set where a
//   single process writes one per set). Every interchange the front sends back is renumbered
//   from the cluster's control numbers (control_numbers.hpp), since each worker numbers its
//   own answers; each part it publishes gets a number of its own the same way.
// - FHIR: the worker's OperationOutcome; HL7 v2: the worker's ACKs.
// What a worker would keep nothing of is answered by the front with an intake of its own over
// an empty in-memory state (the same reader, so the same answer), and so is a message held on
// CG_WAIT for its patient's Medicare identifier (identity_map.hpp). A message the front cannot
// route is refused with the reason. When an answer does not come within answer_timeout, or
// the cluster does not take the message, the sender gets `unavailable`: the transport's
// "not taken, send it again" (HTTP 503, MLLP no ACK). What was published is applied all the
// same, and a repeat is harmless: a claim sent again is answered as a repeat, a message with
// the same control id is answered as before, a fact read again changes nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "covgate/cluster/front_route.hpp"
#include "covgate/cluster/kv_bucket.hpp"
#include "covgate/cluster/nats_client.hpp"
#include "covgate/engine/intake.hpp"

namespace covgate::cluster {

struct front_settings {
  std::string front_id;    ///< [A-Za-z0-9_-]{1,64}: names its inbox and message ids
  std::string key_secret;  ///< the cluster's partition key secret (partition_key.hpp)
  std::chrono::milliseconds answer_timeout{10'000};
  engine::intake_settings intake;  ///< the readers' limits and the answers' profile and sender
  /// Ask the workers for the decision lines of each message's events (front_answer::
  /// decisions): a C ABI host hands them to its caller; serve's front has no use for them.
  bool with_decisions = false;
};

struct front_answer {
  enum class status : std::uint8_t {
    answered,     ///< body/acks hold the answer
    refused,      ///< cannot be routed as sent: `problem` says why; nothing was published
    unavailable,  ///< no answer in time, or the cluster did not take it: send it again
  };
  status how = status::answered;
  engine::payload_kind kind = engine::payload_kind::unknown;
  std::string body;               ///< the whole answer
  std::vector<std::string> acks;  ///< HL7 v2: each ACK by itself
  std::string content_type;
  bool rejected = false;      ///< all or part of it was refused (the answer says why)
  bool unrecognized = false;  ///< not X12, FHIR or HL7 v2
  std::uint32_t claims = 0;
  std::uint32_t facts = 0;
  /// What the claims came to (a hold beats a release beats a close), from each worker's
  /// Cg-Disposition; accepted when no claim answered.
  engine::disposition disposition = engine::disposition::accepted;
  std::string problem;  ///< refused or unavailable: why, for the sender (no data values)
  /// With front_settings::with_decisions: the events' decision lines (JSON, one per line),
  /// the message's parts in order, each as its worker (or the front itself) wrote them.
  std::string decisions;
};

/// Counters for /metrics.
struct front_counts {
  std::uint64_t messages = 0;   ///< submitted
  std::uint64_t parts = 0;      ///< published to CG_IN
  std::uint64_t answered = 0;   ///< answered (by workers, the front, or both)
  std::uint64_t refused = 0;    ///< could not be routed
  std::uint64_t timed_out = 0;  ///< no answer within answer_timeout
  std::uint64_t not_taken = 0;  ///< answered `unavailable`: the cluster did not take a part
  std::uint64_t resent = 0;     ///< parts published again after the cluster did not take them
  std::uint64_t in_flight = 0;  ///< waiting for workers now
  std::uint64_t held = 0;       ///< messages held on CG_WAIT for their patient's identifier
  std::uint64_t forwarded = 0;  ///< held messages forwarded to their patient's partition
  /// Local identities joined to the keyed patient of their message (the identity map links
  /// them to that patient): a part of a split message sent with that patient's part, or an
  /// identity of a message that would be refused as several patients, which goes whole.
  std::uint64_t joined = 0;
};

class front {
 public:
  /// `js`, `control` (KV cg-control), `identities` (KV cg-ident), `policy` and `tables`
  /// outlive the front. Starts its two threads (one
  /// publishes, one collects answers and watches deadlines). Throws nats_error when the reply
  /// subscription cannot be made, std::invalid_argument for a bad front id or an empty secret.
  front(jetstream& js, kv_bucket& control, kv_bucket& identities, const policy::policy_file& policy,
        const mapping::tables& tables, front_settings settings);
  ~front();  ///< stop()
  front(const front&) = delete;
  front& operator=(const front&) = delete;

  /// Takes a message; `done` is called once, from one of the front's threads (or this one for
  /// a message submitted after stop()), with its answer.
  void submit(std::string payload, std::function<void(front_answer)> done);

  /// Stops taking messages; those still waiting are answered `unavailable`. Idempotent.
  void stop();

  [[nodiscard]] front_counts counts() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace covgate::cluster
