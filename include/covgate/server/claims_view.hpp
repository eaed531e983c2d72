// The claims read model of `covgate serve`: the worklist (open claims by outcome, paged) and
// one claim with its current decision and history, as JSON, read from the durable gate's
// store under its lock.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "covgate/server/durable_gate.hpp"

namespace covgate::server {

class claims_view {
 public:
  explicit claims_view(durable_gate& gate) : gate_(gate) {}

  /// GET /claims: open claims with `result`, by id after `after`, at most `limit`.
  [[nodiscard]] std::string worklist_json(model::outcome result, std::string_view after,
                                          std::size_t limit);
  /// GET /claims/{id}: the current decision with its findings and history; nullopt if unknown.
  [[nodiscard]] std::optional<std::string> claim_json(std::string_view claim_id);

 private:
  durable_gate& gate_;
};

}  // namespace covgate::server
