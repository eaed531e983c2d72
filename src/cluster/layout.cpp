#include "covgate/cluster/layout.hpp"

#include <stdexcept>
#include <string>

#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

lease_buckets ensure_layout(jetstream& js, const cluster_layout& layout) {
  if (layout.partitions < 1 || layout.partitions > max_partitions) {
    throw std::invalid_argument("cluster layout: the partition count is out of range");
  }
  stream_settings in{std::string(in_stream),  in_stream_subject(), layout.replicas,
                     layout.duplicate_window, layout.in_max_age,   layout.in_max_bytes};
  in.keep_existing_max_age = true;  // a member without the setting leaves another's
  js.ensure_stream(in);
  for (int p = 0; p < layout.partitions; ++p) {
    js.ensure_consumer({std::string(in_stream), partition_consumer(p, layout.partitions),
                        partition_filter_subject(p), layout.ack_wait, layout.max_ack_pending});
  }
  {
    stream_settings out{std::string(out_stream), out_stream_subject(), layout.replicas,
                        layout.duplicate_window, layout.out_max_age};
    out.one_message_per_subject = true;
    out.keep_existing_max_age = true;
    js.ensure_stream(out);
  }
  // Reference data is small and every worker reads all of it from the start: kept whole.
  js.ensure_stream({std::string(reference_stream), reference_stream_subject(), layout.replicas,
                    layout.duplicate_window});
  // Facts waiting for their patient's Medicare identifier (§4): kept until a front forwards
  // them to the patient's partition and purges them, however long that takes.
  js.ensure_stream(
      {std::string(wait_stream), wait_stream_subject(), layout.replicas, layout.duplicate_window});
  // The latest snapshot of each partition (§5j): a subject keeps its newest message only.
  {
    stream_settings snapshots{std::string(snapshot_stream), snapshot_stream_subject(),
                              layout.replicas, layout.duplicate_window};
    snapshots.latest_per_subject = true;
    js.ensure_stream(snapshots);
  }
  return lease_buckets{js.bucket({std::string(owners_bucket), layout.replicas,
                                  std::chrono::seconds(0), layout.lease_retry_budget}),
                       js.bucket({std::string(workers_bucket), layout.replicas, layout.presence_ttl,
                                  layout.lease_retry_budget})};
}

}  // namespace covgate::cluster
