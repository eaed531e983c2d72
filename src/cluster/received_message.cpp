#include "covgate/cluster/received_message.hpp"

#include "covgate/cluster/subjects.hpp"
#include "covgate/engine/sniff.hpp"
#include "covgate/store/message_source.hpp"

namespace covgate::cluster {

std::optional<store::journal_entry> received_message_of(const stored_message& m) {
  const int partition = partition_of_subject(m.subject);
  const auto kind = kind_of_subject(m.subject);
  if (partition < 0 || !kind ||
      (*kind != message_kind::claim && *kind != message_kind::hl7v2 &&
       *kind != message_kind::fhir)) {
    return std::nullopt;
  }
  store::journal_entry entry;
  entry.id = static_cast<std::int64_t>(m.sequence);
  entry.received_ms = m.stored_ms;
  entry.channel = "nats";
  // As durable_gate::submit_from_stream journals it at the worker.
  entry.sender = store::stream_peer({static_cast<std::uint32_t>(partition), m.sequence});
  entry.kind = std::string(engine::name(engine::sniff(m.data)));
  entry.body = m.data;
  entry.received_bytes = m.data.size();
  return entry;
}

}  // namespace covgate::cluster
