// One change of a claim's outcome, as the gate reports it: the unit every host forwards (a
// 277, a decision line, a history row, an outbox item, a C ABI event).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
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

/// An event's claim is borrowed from whoever reported it for as long as the call that reports
/// it (a transaction set's first answers: until the set's 277 is written), so that a claim
/// goes from the reader to the 277 without being moved or copied; a copy of an event owns a
/// copy of its claim, so a handler may keep events. Its decision is its own.
struct event {
  event(event_kind k, const model::claim& borrowed, model::decision d, std::string from,
        std::uint32_t number, std::string reason = {})
      : kind(k),
        decision(std::move(d)),
        source(std::move(from)),
        sequence(number),
        note(std::move(reason)),
        claim_(&borrowed) {}
  event(const event& other);
  event& operator=(const event& other);
  event(event&&) noexcept = default;  // an owned claim stays where it is: the pointer holds
  event& operator=(event&&) noexcept = default;
  ~event() = default;

  event_kind kind = event_kind::hold;
  model::decision decision;
  std::string source;  ///< where the claim or the fact that caused it came from
  /// The claim's event number (1 = its first answer); a repeat carries the number of the
  /// event it repeats. Claim key + sequence identify an outbound message.
  std::uint32_t sequence = 0;
  std::string note;  ///< a reviewer's reason (release and cancel by a reviewer), or ""

  [[nodiscard]] const model::claim& claim() const noexcept { return *claim_; }

  /// The answer's trace number, "CLM01-sequence" (e.g. "PUMP001-2"): the 277's REF*1K,
  /// which only a release carries (x12::write_277 decides). A repeat has the trace of the
  /// answer it repeats. '-' keeps it a valid X12 AN value in any delimiters (':' is the usual
  /// component separator). Two billing providers' claims of one CLM01 share it (the 277 names
  /// the billing provider beside it, and REF02's 50 characters leave no room for the NPI).
  [[nodiscard]] std::string trace() const;
  /// The answer's idempotency key (model::delivery_key): the trace prefixed by the billing
  /// NPI and '_' (e.g. "1234567893_PUMP001-2"), the trace alone for a claim without one. One
  /// form for the outbound message's key, its file name and Idempotency-Key header.
  [[nodiscard]] std::string delivery_key() const;

 private:
  const model::claim* claim_;
  std::unique_ptr<model::claim> owned_;  // on the heap: a moved event's pointer stays valid
};

/// What a message's first answers come to for its sender, when several claims answer at once:
/// a hold beats a release beats a close; accepted when no claim answered (facts only). The C
/// ABI's covgate_disposition, a cluster worker's Cg-Disposition header.
enum class disposition : std::uint8_t { accepted, hold, release, closed };

/// "accepted", "hold", "release", "closed".
[[nodiscard]] std::string_view name(disposition d) noexcept;
/// The disposition a name() gives; nullopt for anything else.
[[nodiscard]] std::optional<disposition> disposition_named(std::string_view text) noexcept;

/// The disposition of `a` and `b` together (a hold beats a release beats a close).
[[nodiscard]] constexpr disposition combined(disposition a, disposition b) noexcept {
  constexpr auto rank = [](disposition d) {
    switch (d) {
      case disposition::hold:
        return 3;
      case disposition::release:
        return 2;
      case disposition::closed:
        return 1;
      case disposition::accepted:
        break;
    }
    return 0;
  };
  return rank(a) >= rank(b) ? a : b;
}

/// The disposition one first answer stands for: a repeat as the answer it repeats.
[[nodiscard]] disposition disposition_of(const event& e) noexcept;

}  // namespace covgate::engine
