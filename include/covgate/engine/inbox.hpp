// One inbound message in, the sender's answer out: the pure heart of `covgate serve`. The
// payload is sniffed (X12, FHIR JSON/XML/NDJSON, HL7 v2), read, fed to the gate, and answered
// in its own standard: X12 gets one 277 per accepted transaction set (and its 999/TA1 when
// something was refused or a TA1 was asked for), FHIR an OperationOutcome, HL7 v2 an ACK
// (AR: covgate does not read HL7 v2 content yet). Outcome changes a message causes for claims
// that arrived earlier (a late lab releasing a held claim) are returned as `later` events,
// for the outbox. No I/O, no clock (the caller passes the time), not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "covgate/engine/gate.hpp"
#include "covgate/x12/interchange_reader.hpp"
#include "covgate/x12/status_writer.hpp"

namespace covgate::engine {

enum class payload_kind : std::uint8_t { x12, fhir, hl7v2, unknown };

/// What a payload is, from its first bytes (a BOM and blanks skipped): "ISA" X12, "MSH" HL7
/// v2, '{' or '<' FHIR.
[[nodiscard]] payload_kind sniff(std::string_view payload) noexcept;
[[nodiscard]] std::string_view name(payload_kind k) noexcept;

/// What to do with an interchange that was accepted in an earlier message (same ISA05/ISA06
/// and ISA13). A control number reused for different content is always refused (TA1 note
/// 025); the same message sent again (a retry after a lost answer) is, by this setting:
enum class duplicate_interchanges : std::uint8_t {
  answer_again,  ///< answered as it was the first time; nothing is processed twice
  reject,        ///< refused like a reused number (TA1 note 025)
};

/// The answers of accepted interchanges, kept by a durable caller so a later message can be
/// recognized as a duplicate.
class interchange_memory {
 public:
  struct answer_given {
    std::string body;
    bool rejected = false;  ///< part of it was refused (the answer carried a 999)
    std::uint32_t claims = 0;
    std::uint64_t message_digest = 0;  ///< of the message that carried it (FNV-1a, 64 bits)
  };
  virtual ~interchange_memory() = default;
  /// The answer given to the interchange `sender_control` ("ISA05/ISA06/ISA13"), or nullopt.
  [[nodiscard]] virtual std::optional<answer_given> answer_of(std::string_view sender_control) = 0;
  virtual void remember(std::string_view sender_control, const answer_given& answer) = 0;
};

struct inbox_settings {
  x12::reader_options reader;
  x12::status_profile profile = x12::status_profile::notification_x212;
  std::string sender_qualifier = "ZZ";  ///< our ISA05/06 on 277s
  std::string sender_id = "COVGATE";
  duplicate_interchanges duplicates = duplicate_interchanges::answer_again;
};

/// When the answer is written: CCYYMMDDHHMM (the caller's clock).
struct message_time {
  std::string stamp = "202601010000";
};

struct answer {
  payload_kind kind = payload_kind::unknown;
  std::string body;                         ///< the reply in the sender's standard
  std::string_view content_type;            ///< application/edi-x12, application/fhir+json, …
  bool rejected = false;                    ///< all or part of the message was refused
  std::uint32_t claims = 0;                 ///< claims answered in `body`
  std::uint32_t facts = 0;                  ///< facts read
  std::uint32_t repeated_interchanges = 0;  ///< answered as they were in an earlier message
  std::vector<event> later;                 ///< changes to earlier claims, for the outbox
};

class inbox {
 public:
  /// `claims` outlives the inbox. `first_control` numbers our interchanges (ISA13); a durable
  /// caller passes the next unused number.
  inbox(const policy::policy_file& policy, const mapping::tables& tables, store::store& claims,
        inbox_settings settings, std::uint32_t first_control = 1);

  /// Processes one whole message. Never throws on bad input: it is answered.
  [[nodiscard]] answer receive(std::string_view payload, const std::string& source,
                               const message_time& at);

  /// The 277 for events that happened later than their claim (the outbox's message).
  [[nodiscard]] std::string status_message(const std::vector<event>& events,
                                           const message_time& at);

  /// Remembers accepted interchanges across messages (nullptr: within one message only, as
  /// the X12 reader does). `memory` outlives the inbox.
  void remember_interchanges(interchange_memory* memory) noexcept { interchanges_ = memory; }

  /// Sees every event of every call, first answers included (a durable caller records each
  /// claim's decision history from it).
  void observe(std::function<void(const event&)> observer) { observer_ = std::move(observer); }

  /// Sees the facts of every accepted FHIR message before the gate takes them (a durable
  /// caller keeps them for start-up).
  void observe_facts(std::function<void(const std::vector<model::fact>&)> observer) {
    facts_observer_ = std::move(observer);
  }

  /// Facts kept by a durable caller, at start-up: indexed, nothing re-evaluated (see
  /// gate::restore_facts).
  void restore(std::vector<model::fact> facts) { gate_.restore_facts(std::move(facts)); }

  /// Re-reads a journaled FHIR message at start-up, like restore() (for a store written
  /// before facts were kept; the facts observer sees them). Returns the number of facts.
  std::size_t restore(std::string_view fhir_payload);

  /// A reviewer's release or cancel (gate::review); the event is returned in `later`.
  [[nodiscard]] std::pair<gate::review_result, std::vector<event>> review(
      std::string_view claim_id, bool release, const std::string& source);

  [[nodiscard]] statistics summary() const { return gate_.summary(); }
  /// The next interchange control number we will use (to persist across restarts).
  [[nodiscard]] std::uint32_t next_control() const noexcept { return control_; }

 private:
  answer receive_x12(std::string_view payload, const std::string& source, const message_time& at);
  answer receive_fhir(std::string_view payload, const std::string& source);
  answer receive_hl7v2(std::string_view payload, const message_time& at);

  const mapping::tables& tables_;
  inbox_settings settings_;
  std::vector<event> events_;  // what the gate reported during the current call
  std::function<void(const event&)> observer_;
  std::function<void(const std::vector<model::fact>&)> facts_observer_;
  interchange_memory* interchanges_ = nullptr;
  gate gate_;
  std::uint32_t control_;
};

}  // namespace covgate::engine
