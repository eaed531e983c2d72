// What a worker's reply to a partition question carries, for the tests of the questions.
#pragma once

#include <string>
#include <string_view>

#include "covgate/cluster/partition_query.hpp"

namespace covgate::test {

/// The value of header `name` on `reply`, or "(none)" when it has none.
inline std::string header_of(const cluster::partition_query_responder::reply& reply,
                             std::string_view name) {
  for (const auto& h : reply.headers) {
    if (name == h.name) return h.value;
  }
  return "(none)";
}

}  // namespace covgate::test
