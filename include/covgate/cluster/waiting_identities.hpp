// What waits on CG_WAIT for an identity to be linked (docs/cluster.md §4): the listing a front
// answers GET /identities/waiting with.
//
// A message of facts that names its patient only by a local identity (Patient/123, a PID-3
// record number) waits on cg.wait.<identity token>.<kind> until a message links that identity
// to a Medicare identifier. Nothing here names a patient: the token is a keyed hash.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "covgate/cluster/nats_client.hpp"

namespace covgate::cluster {

/// One identity's waiting messages.
struct waiting_identity {
  std::string token;           ///< the identity token (32 hex)
  std::uint64_t messages = 0;  ///< all kinds
  std::uint64_t fhir = 0;      ///< of which FHIR
  std::uint64_t hl7v2 = 0;     ///< of which HL7 v2
  std::int64_t oldest_ms = 0;  ///< when CG_WAIT stored its oldest (0: not read)
};

struct waiting_listing {
  std::uint64_t messages = 0;    ///< every waiting message
  std::uint64_t identities = 0;  ///< every identity with a message waiting
  /// The identities, oldest first; at most the limit asked for.
  std::vector<waiting_identity> listed;
};

/// Groups `subjects` (CG_WAIT's, with their message counts) by identity token, largest count
/// first (then by token); subjects that are not wait subjects are skipped. Pure: the counting
/// half of waiting_on_identities.
[[nodiscard]] waiting_listing group_waiting(
    const std::vector<std::pair<std::string, std::uint64_t>>& subjects);

/// The listing: one stream-info request for the counts, then for the `limit` identities with
/// the most messages the time of their oldest (an ordered read of one message each, `wait` at
/// most each), listed oldest first. Throws nats_error.
[[nodiscard]] waiting_listing waiting_on_identities(jetstream& js, std::size_t limit,
                                                    std::chrono::milliseconds wait);

/// The listing as JSON: {"messages", "identities", "listed": [{"token", "messages", "fhir",
/// "hl7v2", "oldest"}]} with `oldest` an ISO instant and `age_seconds` at `now_ms`.
[[nodiscard]] std::string waiting_json(const waiting_listing& listing, std::int64_t now_ms);

}  // namespace covgate::cluster
