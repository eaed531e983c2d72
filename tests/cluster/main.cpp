// covgate_cluster_tests: the doctest cases against a running three-node NATS cluster
// (tests/cluster/run.sh starts it), and `--print-mapping N`, which prints the server mapping
// line the script writes into every node's configuration (so the servers map subjects
// exactly as covgate's builders say).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <string>

#include "covgate/cluster/nats_client.hpp"
#include "covgate/cluster/subjects.hpp"

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--print-mapping") == 0) {
    std::cout << covgate::cluster::partition_mapping_line(std::stoi(argv[2])) << '\n';
    return 0;
  }
  doctest::Context context(argc, argv);
  const int status = context.run();
  covgate::cluster::shutdown_nats_library(std::chrono::seconds(5));
  return status;
}
