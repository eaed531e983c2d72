#include "covgate/cluster/partition_status.hpp"

#include <doctest/doctest.h>

using namespace covgate::cluster;

TEST_SUITE("cluster.partition_status") {
  TEST_CASE("the metrics text has one sample per partition in each family") {
    const std::vector<partition_status> status{{0, "w1", 17, 12, 3}, {1, "", 0, 0, 0}};
    CHECK(partition_metrics(status) ==
          "# HELP covgate_partition_lag Messages of the partition not yet delivered to its "
          "worker.\n"
          "# TYPE covgate_partition_lag gauge\n"
          "covgate_partition_lag{partition=\"0\"} 12\n"
          "covgate_partition_lag{partition=\"1\"} 0\n"
          "# HELP covgate_partition_ack_pending Messages of the partition delivered and not yet "
          "acknowledged.\n"
          "# TYPE covgate_partition_ack_pending gauge\n"
          "covgate_partition_ack_pending{partition=\"0\"} 3\n"
          "covgate_partition_ack_pending{partition=\"1\"} 0\n"
          "# HELP covgate_partition_epoch The fencing epoch of the partition's live lease (0: no "
          "live lease).\n"
          "# TYPE covgate_partition_epoch gauge\n"
          "covgate_partition_epoch{partition=\"0\"} 17\n"
          "covgate_partition_epoch{partition=\"1\"} 0\n"
          "# HELP covgate_partition_owned 1 with the worker holding the partition's live lease.\n"
          "# TYPE covgate_partition_owned gauge\n"
          "covgate_partition_owned{partition=\"0\",worker=\"w1\"} 1\n"
          "covgate_partition_owned{partition=\"1\",worker=\"\"} 0\n");
  }

  TEST_CASE("no partitions: the families alone") {
    const auto text = partition_metrics({});
    CHECK(text.find("# TYPE covgate_partition_lag gauge\n") != std::string::npos);
    CHECK(text.find("{partition=") == std::string::npos);
  }
}
