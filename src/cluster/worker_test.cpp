#include "covgate/cluster/worker.hpp"

#include <doctest/doctest.h>

namespace covgate::cluster {

TEST_SUITE("cluster.worker") {
  TEST_CASE("handed_in_turn: a batch follows the runner's last delivery without a gap") {
    CHECK(handed_in_turn(7, {8}));
    CHECK(handed_in_turn(7, {8, 9, 10}));
    // Another client was handed delivery 8 (a pull request a previous holder left open).
    CHECK_FALSE(handed_in_turn(7, {9, 10}));
    // ... or one within the batch.
    CHECK_FALSE(handed_in_turn(7, {8, 10}));
    // A redelivery of this runner's own message counts as a delivery of its own: in turn.
    CHECK(handed_in_turn(10, {11}));
    // The first batch a runner fetches follows nothing it knows of.
    CHECK_FALSE(handed_in_turn(std::nullopt, {1}));
    CHECK_FALSE(handed_in_turn(std::nullopt, {5, 6}));
  }
}

}  // namespace covgate::cluster
