// A message of CG_IN as GET /messages/{id} shows it on a cluster front (docs/cluster.md §5g).
//
// A front keeps no journal: the stream is the cluster's. A claim found through a front names
// its messages by the CG_IN sequence that carried them (store/message_source.hpp), and the
// front reads that sequence back. The entry says what the worker's own journal says of the
// same message: channel "nats", peer "part-<partition>:<sequence>", dated when CG_IN stored it.
#pragma once

#include <optional>

#include "covgate/cluster/nats_client.hpp"
#include "covgate/store/sqlite_store.hpp"

namespace covgate::cluster {

/// `m` (read from CG_IN) as a journal entry, or nullopt when it is not a message someone sent:
/// a reviewer's action or an identity's re-keying (the stream carries those too), or a subject
/// that is not a partition's.
[[nodiscard]] std::optional<store::journal_entry> received_message_of(const stored_message& m);

}  // namespace covgate::cluster
