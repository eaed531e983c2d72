// Where the gate keeps its claims. The engine talks to this narrow interface only, so the
// in-memory store (replay, tests) and a durable one (the servers) are interchangeable: a
// record goes in whole with save() and comes back whole with load(); nothing hands out
// pointers into the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/model/claim.hpp"
#include "covgate/model/decision.hpp"

namespace covgate::store {

/// The state of one claim (by CLM01).
struct claim_record {
  model::claim claim;
  model::decision decision;    ///< the current decision
  std::string source;          ///< where the claim came from ("file:offset", a message id)
  bool closed = false;         ///< voided or replaced: no further events
  bool csii_released = false;  ///< released with an insulin-pump line (POLICY.md: continued use)
  std::uint32_t events = 0;    ///< events reported so far (the event sequence number)
};

/// What the gate needs to know about a patient's other claims without loading them.
struct claim_summary {
  std::string id;
  model::outcome result = model::outcome::release;
  bool closed = false;
  bool csii_released = false;
};

class store {
 public:
  virtual ~store() = default;

  /// The record of `claim_id`, or nullopt when the store has none.
  [[nodiscard]] virtual std::optional<claim_record> load(std::string_view claim_id) const = 0;

  /// Inserts or replaces the record of `record.claim.id`. A new record joins the claims of
  /// its patient key (`record.claim.subscriber.member_id`).
  virtual void save(const claim_record& record) = 0;

  /// The claims filed for a patient key, in the order they were first saved.
  [[nodiscard]] virtual std::vector<claim_summary> claims_of(std::string_view patient) const = 0;

  /// How many claims the store holds (closed ones included).
  [[nodiscard]] virtual std::size_t size() const = 0;
};

}  // namespace covgate::store
