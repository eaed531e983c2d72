// One change of a claim's outcome, as the gate reports it: the unit every host forwards (a
// 277, a decision line, a history row, an outbox item, a C ABI event).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "covgate/model/claim.hpp"
#include "covgate/model/decision.hpp"

namespace covgate::engine {

enum class event_kind : std::uint8_t {
  hold,        ///< the claim is held (first answer, or a released claim held again)
  release,     ///< the claim is released (first answer, late evidence, or a reviewer)
  reopened,    ///< a released claim no longer passes (a fact was retracted or corrected)
  repeat,      ///< a duplicate claim answered again, not processed twice
  void_claim,  ///< frequency 8 closed the claim
  cancel,      ///< a reviewer closed a held claim
};

/// "hold", "release", "reopened", "repeat", "void", "cancel".
[[nodiscard]] std::string_view name(event_kind k) noexcept;

/// The event owns its claim and decision: a handler may keep or move them.
struct event {
  event_kind kind = event_kind::hold;
  model::claim claim;
  model::decision decision;
  std::string source;  ///< where the claim or the fact that caused it came from
  /// The claim's event number (1 = its first answer); a repeat carries the number of the
  /// event it repeats. Claim id + sequence identify an outbound message.
  std::uint32_t sequence = 0;
  std::string note;  ///< a reviewer's reason (release and cancel by a reviewer), or ""

  /// The answer's idempotency key, "CLM01-sequence" (e.g. "PUMP001-2"): one form for the
  /// outbound message's key, its file name and Idempotency-Key header, and the 277's REF*1K,
  /// which only a release carries (x12::write_277 decides). A repeat has the key of the
  /// answer it repeats. '-' keeps it a valid X12 AN value in any delimiters (':' is the usual
  /// component separator) and a file name as it is.
  [[nodiscard]] std::string trace() const;
};

}  // namespace covgate::engine
