#include "covgate/cluster/partition_status.hpp"

#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

std::vector<partition_status> read_partition_status(jetstream& js, kv_bucket& owners,
                                                    int partitions, std::int64_t now_ms,
                                                    const lease_timing& timing) {
  std::vector<partition_status> out;
  out.reserve(static_cast<std::size_t>(partitions));
  for (int p = 0; p < partitions; ++p) {
    partition_status status;
    status.partition = p;
    if (const auto entry = owners.get(lease_key(p))) {
      const observed_lease lease{decode_lease(entry->value), entry->revision};
      if (lease.record && !lease_expired(lease.record->heartbeat_ms, now_ms, timing)) {
        status.owner = lease.record->worker;
        status.epoch = lease.epoch();
      }
    }
    const auto consumer =
        js.consumer_info(std::string(in_stream), partition_consumer(p, partitions));
    status.lag = consumer.pending;
    status.ack_pending = consumer.ack_pending;
    out.push_back(std::move(status));
  }
  return out;
}

std::string partition_metrics(const std::vector<partition_status>& partitions) {
  std::string text;
  const auto family = [&](const char* name, const char* help) {
    text += "# HELP ";
    text += name;
    text += ' ';
    text += help;
    text += "\n# TYPE ";
    text += name;
    text += " gauge\n";
  };
  const auto sample = [&](const char* name, int partition, const std::string& extra,
                          const std::string& value) {
    text += name;
    text += "{partition=\"" + std::to_string(partition) + '"' + extra + "} " + value + '\n';
  };
  family("covgate_partition_lag", "Messages of the partition not yet delivered to its worker.");
  for (const auto& p : partitions)
    sample("covgate_partition_lag", p.partition, "", std::to_string(p.lag));
  family("covgate_partition_ack_pending",
         "Messages of the partition delivered and not yet acknowledged.");
  for (const auto& p : partitions) {
    sample("covgate_partition_ack_pending", p.partition, "", std::to_string(p.ack_pending));
  }
  family("covgate_partition_epoch",
         "The fencing epoch of the partition's live lease (0: no live lease).");
  for (const auto& p : partitions) {
    sample("covgate_partition_epoch", p.partition, "", std::to_string(p.epoch));
  }
  family("covgate_partition_owned", "1 with the worker holding the partition's live lease.");
  for (const auto& p : partitions) {
    sample("covgate_partition_owned", p.partition, ",worker=\"" + p.owner + '"',
           p.owner.empty() ? "0" : "1");
  }
  return text;
}

}  // namespace covgate::cluster
