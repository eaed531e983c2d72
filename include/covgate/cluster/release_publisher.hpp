// A worker's later answers (a held claim released by late evidence or a reviewer, a release
// held again, a cancel) leave its store's outbox for stream CG_OUT, not for a receiver: the
// partition a release belongs to may be rebuilt on another worker, which then makes the same
// release again. Each release is published on a subject named by its idempotency key
// (release_subject(release_token(secret, key))) to a stream that keeps one message per
// subject and refuses a second: whichever worker publishes a key first, that copy is the one
// CG_OUT holds, however much later another worker makes it again (docs/cluster.md §5d).
#pragma once

#include <string>
#include <string_view>

#include "covgate/cluster/control_numbers.hpp"
#include "covgate/cluster/nats_client.hpp"

namespace covgate::cluster {

/// What became of one release.
struct release_result {
  enum class status : std::uint8_t {
    published,          ///< stored on CG_OUT now
    already_published,  ///< CG_OUT holds this key already (another worker's or an earlier try)
    failed,             ///< not stored; try again later (`error` says why)
  };
  status how = status::failed;
  std::uint64_t sequence = 0;  ///< CG_OUT's sequence of the stored copy (0: not known)
  std::string error;           ///< failed: the operation and NATS's text (no message body)
};

/// The headers of a release on CG_OUT (besides Nats-Msg-Id, which is the subject's token).
inline constexpr const char* release_key_header = "Cg-Idempotency-Key";  ///< "NPI_CLM01-sequence"
inline constexpr const char* release_worker_header = "Cg-Worker";        ///< who published it
/// The event's name ("release", "hold", "reopened", "void", "cancel") and its decision line
/// (one JSON object, as `covgate replay --decisions` writes it): what a C ABI host pointed at
/// the cluster hands out with the 277 (covgate_poll). Releases of older workers lack them.
inline constexpr const char* release_event_header = "Cg-Event";
inline constexpr const char* release_decision_header = "Cg-Decision";

class release_publisher {
 public:
  /// Publishes through `js`, numbering each 277 from the cluster's control numbers
  /// (`numbers`, shared with the fronts, so no two interchanges the cluster sends repeat an
  /// ISA13). Both outlive this object. Throws std::invalid_argument for an empty secret.
  release_publisher(jetstream& js, control_numbers& numbers, std::string key_secret,
                    std::string worker_id);

  /// Publishes one outbox item: `key` its idempotency key, `body` its 277 (its ISA13 and
  /// IEA02 are rewritten first; a body whose envelope cannot be followed is published as it
  /// is). One attempt (no retries of its own). Never throws: a failure (NATS, the control
  /// numbers' key) is reported as failed, for the outbox to retry. `event` and `decision`
  /// ("" for none) go in the headers above.
  [[nodiscard]] release_result publish(std::string_view key, std::string_view content_type,
                                       std::string body, std::string_view event = {},
                                       std::string_view decision = {});

 private:
  jetstream& js_;
  control_numbers& numbers_;
  std::string secret_;
  std::string worker_;
};

}  // namespace covgate::cluster
