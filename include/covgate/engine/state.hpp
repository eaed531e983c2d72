// Everything the engine keeps between messages, behind one interface: claims with their
// current decision, each claim's decision history, the facts of every resource (one row per
// resource, for a restart), the interchanges already answered, and counters such as our
// interchange control number. The engine calls it; the store module implements it in memory
// (replay, tests, the C ABI's memory mode) and in SQLite (serve, replay --store). Records go
// in whole and come back whole: nothing hands out pointers into the state.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/model/claim.hpp"
#include "covgate/model/decision.hpp"

namespace covgate::engine {

/// The state of one claim (by its key: CLM01 and billing NPI, model/claim_key.hpp).
struct claim_record {
  model::claim claim;
  model::decision decision;    ///< the current decision
  std::string source;          ///< where the claim came from ("file:offset", a message id)
  bool closed = false;         ///< voided, replaced or cancelled: no further events
  bool csii_released = false;  ///< released with an insulin-pump line (policy: continued use)
  std::uint32_t events = 0;    ///< events reported so far (the event sequence number)
};

/// A claim as a reader's thread encoded it ahead for the state (state::keeps_encoded_claims):
/// its two parts as model::encode_own_part and model::encode_set_part write them. An empty
/// view: the state encodes that part itself.
struct encoded_claim {
  std::string_view own_part;
  /// The same bytes (and usually the same view) for every claim of a set with one billing
  /// provider: the state compares them with the set part it kept last.
  std::string_view set_part;
};

/// A claim's state as save() takes it: every part viewed, not owned, so that the gate saves a
/// claim where the reader built it instead of moving it into a record first (a claim is some
/// hundred strings). Valid while what it views lives; a claim_record converts to it.
struct claim_record_view {
  claim_record_view(const model::claim& c, const model::decision& d, std::string_view from,
                    bool is_closed, bool released_pump, std::uint32_t event_count,
                    encoded_claim encoded_ahead = {}) noexcept
      : claim(c),
        decision(d),
        source(from),
        closed(is_closed),
        csii_released(released_pump),
        events(event_count),
        encoded(encoded_ahead) {}
  claim_record_view(const claim_record& r) noexcept  // NOLINT(google-explicit-constructor)
      : claim_record_view(r.claim, r.decision, r.source, r.closed, r.csii_released, r.events) {}

  const model::claim& claim;
  const model::decision& decision;
  std::string_view source;
  bool closed;
  bool csii_released;
  std::uint32_t events;
  /// The claim as a reader's thread encoded it (state::keeps_encoded_claims), or empty views.
  encoded_claim encoded;
};

/// What the gate needs to know about a patient's other claims without loading them.
struct claim_summary {
  std::string id;  ///< the claim's key (model::claim_key)
  model::outcome result = model::outcome::release;
  bool closed = false;
  bool csii_released = false;
};

/// One entry of a claim's decision history (every event but a repeated answer).
struct history_entry {
  std::uint32_t sequence = 0;
  std::string kind;        ///< the event kind's name (hold, release, reopened, void, cancel)
  std::int64_t at_ms = 0;  ///< when it happened (Unix milliseconds, the caller's clock)
  model::decision decision;
  std::string source;  ///< the message, or "review:<who>" for a reviewer's action
  std::string note;    ///< a reviewer's reason, or ""
};

/// An interchange answered before: its answer is given again when the same message returns.
struct interchange_answer {
  std::string body;
  bool rejected = false;  ///< part of it was refused (the answer carried a 999)
  std::uint32_t claims = 0;
  std::uint64_t message_digest = 0;  ///< of the message that carried it (FNV-1a, 64 bits)
};

class state {
 public:
  virtual ~state() = default;

  /// True when the state survives a restart (facts are then kept for it, one row per
  /// resource, and restored by intake::restore()).
  [[nodiscard]] virtual bool durable() const noexcept = 0;
  /// True when history() answers (record_history() is skipped otherwise).
  [[nodiscard]] virtual bool keeps_history() const noexcept = 0;
  /// True when save() keeps a claim as model::encode_own_part's and model::encode_set_part's
  /// bytes: a claim read ahead is then encoded on the reader's thread, and save() takes the
  /// bytes (claim_record_view::encoded) instead of encoding on the gate's.
  [[nodiscard]] virtual bool keeps_encoded_claims() const noexcept { return false; }

  // ---- claims ------------------------------------------------------------------------------
  /// The record of the claim keyed `claim_key` (model::claim_key), or nullopt.
  [[nodiscard]] virtual std::optional<claim_record> load(std::string_view claim_key) const = 0;
  /// Inserts or replaces the record of the claim's key (model::claim_key(record.claim)),
  /// filed under its patient key (`record.claim.subscriber.member_id`).
  virtual void save(const claim_record_view& record) = 0;
  /// The claims filed for a patient key, in the order they were first saved.
  [[nodiscard]] virtual std::vector<claim_summary> claims_of(std::string_view patient) const = 0;
  /// The open claims of a patient a new fact may change: documentation holds, and releases
  /// too when `released_too` (a retraction or correction may reopen them). In first-save order.
  /// Costs what it returns, not every claim the patient has.
  [[nodiscard]] virtual std::vector<claim_summary> open_claims_of(std::string_view patient,
                                                                  bool released_too) const = 0;
  /// True when a claim of `patient` other than `claim_key`'s was released with an insulin-pump
  /// line (the policy's "initial treatment" test). One lookup, whatever the patient's claims.
  [[nodiscard]] virtual bool csii_released_other_than(std::string_view patient,
                                                      std::string_view claim_key) const = 0;
  /// How many claims the state holds (closed ones included).
  [[nodiscard]] virtual std::size_t size() const = 0;
  /// The current decision of every open claim (at start-up: the gate's counts come back).
  virtual void for_each_open_decision(
      const std::function<void(const model::decision&)>& visit) const = 0;

  // ---- history -----------------------------------------------------------------------------
  virtual void record_history(std::string_view claim_key, const history_entry& entry) = 0;
  /// Oldest first; empty when the state keeps no history.
  [[nodiscard]] virtual std::vector<history_entry> history(std::string_view claim_key) const = 0;

  // ---- facts -------------------------------------------------------------------------------
  /// Keeps the facts one resource gave (encoded, model/fact_codec.hpp) for a restart,
  /// replacing the stored version unless that one is newer by meta.lastUpdated.
  virtual void save_facts(std::string_view resource, std::string_view last_updated,
                          std::string_view encoded) = 0;
  /// Every stored resource's encoded facts, in the order they were saved.
  virtual void for_each_facts(const std::function<void(std::string_view encoded)>& visit) const = 0;

  // ---- interchanges ------------------------------------------------------------------------
  /// The answer given to "ISA05/ISA06/ISA13", or nullopt.
  [[nodiscard]] virtual std::optional<interchange_answer> interchange(
      std::string_view sender_control) const = 0;
  /// `answer` is taken by value: an interchange's answer can be megabytes, kept without a copy.
  virtual void remember_interchange(std::string_view sender_control, std::int64_t at_ms,
                                    interchange_answer answer) = 0;

  // ---- counters ----------------------------------------------------------------------------
  /// A persistent counter (e.g. "control"); `fallback` when never set.
  [[nodiscard]] virtual std::int64_t counter(std::string_view name,
                                             std::int64_t fallback) const = 0;
  virtual void set_counter(std::string_view name, std::int64_t value) = 0;
};

}  // namespace covgate::engine
