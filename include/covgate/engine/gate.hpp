// The Gate: claims and facts in arrival order, decisions out. A claim is evaluated at once
// against the facts known; a fact re-evaluates the patient's held claims and releases the
// documentation holds that now pass; a retracted or corrected fact re-evaluates released
// claims too and reports the ones that no longer pass ("reopened"). Replacements (frequency
// 7) supersede the original, voids (8) close it, and a claim sent twice is answered again,
// not processed twice. No I/O, no clock: the caller passes messages and gets events. Claim
// state lives behind store::store; facts and practitioners in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "covgate/fhir/linker.hpp"
#include "covgate/mapping/tables.hpp"
#include "covgate/model/claim.hpp"
#include "covgate/model/decision.hpp"
#include "covgate/model/fact_index.hpp"
#include "covgate/policy/policy.hpp"
#include "covgate/store/store.hpp"

namespace covgate::engine {

/// One change of a claim's outcome (or a repeated answer), as the gate reports it. The event
/// owns its claim and decision: the handler may keep or move them.
struct event {
  /// "hold", "release", "reopened" (a released claim no longer passes), "repeat" (a duplicate
  /// answered again), "void" (frequency 8 closed the claim) or "cancel" (a reviewer closed it).
  std::string_view kind;
  model::claim claim;
  model::decision decision;
  std::string source;  ///< where the claim or the fact that caused it came from
  /// The claim's event number (1 = its first answer); a repeat carries the number of the
  /// event it repeats. Claim id + sequence identify an outbound message.
  std::uint32_t sequence = 0;

  /// The answer's idempotency key, "CLM01-sequence" (e.g. "PUMP001-2"): one form for the
  /// outbound message's key, its file name and Idempotency-Key header, and the 277's REF*1K,
  /// which only a release carries (x12::write_277 decides). A repeat has the key of the
  /// answer it repeats. '-' keeps it a valid X12 AN value in any delimiters (':' is the usual
  /// component separator) and a file name as it is.
  [[nodiscard]] std::string trace() const;
};

/// Counts for the end-of-run summary.
struct statistics {
  std::uint64_t claims = 0, duplicates = 0, replacements = 0, voids = 0, facts = 0;
  std::map<std::string, std::uint64_t> by_outcome;  ///< current outcome of every open claim
  std::map<std::string, std::uint64_t> by_reason;   ///< reasons of current holds
};

class gate {
 public:
  using event_handler = std::function<void(event&&)>;

  /// `claims` outlives the gate; the gate is its only writer.
  gate(const policy::policy_file& policy, const mapping::tables& tables, store::store& claims,
       event_handler on_event);

  /// A claim from an accepted transaction set. Emits one event ("hold", "release", "void" or
  /// "repeat").
  void on_claim(model::claim claim, const std::string& source);

  /// The facts of one message, in order (taken over). Linked facts update the fact index; the
  /// patients they touch have their open claims re-evaluated.
  void on_facts(std::vector<model::fact> facts, const std::string& source);

  /// Facts recovered at start-up (a durable store's journal): linked and indexed, but no claim
  /// is re-evaluated (the stored decisions already reflect them) and no event is emitted.
  void restore_facts(std::vector<model::fact> facts);

  enum class review_result : std::uint8_t { done, unknown_claim, not_reviewable };
  /// A reviewer's decision on a claim held for review, as not covered, or as invalid (holds
  /// that never leave by themselves): release it (event "release") or cancel it (event
  /// "cancel", the claim is closed). `source` records who and why. Documentation holds are
  /// not reviewable: they leave when their evidence arrives.
  review_result review(std::string_view claim_id, bool release, const std::string& source);

  [[nodiscard]] statistics summary() const;
  /// The current state of a claim, or nullopt.
  [[nodiscard]] std::optional<store::claim_record> find(std::string_view claim_id) const;

 private:
  /// Re-evaluates `record`, saves it, and emits an event when its outcome changed (or always,
  /// for a claim's first answer), of kind `kind_if_changed` or else "hold"/"release".
  void evaluate(store::claim_record record, std::string_view kind_if_changed,
                const std::string& source, bool first_answer);
  void emit(std::string_view kind, store::claim_record& record, const std::string& source);
  policy::patient_context context_for(const store::claim_record& record) const;
  void reevaluate_patient(const std::string& key, bool corrected, const std::string& source);
  /// Links and indexes facts; the patients whose facts changed, and those corrected.
  void index_facts(std::vector<model::fact> facts, std::set<std::string>& touched,
                   std::set<std::string>& corrected);
  bool is_csii(const model::claim& claim) const;
  /// Adds (+1) or removes (-1) an open claim's decision from the summary counts.
  void count(const model::decision& decision, int delta);

  const policy::policy_file& policy_;
  const mapping::tables& tables_;
  store::store& claims_;
  event_handler on_event_;
  model::fact_index facts_;
  fhir::linker linker_;
  std::vector<model::fact> linked_;  // facts the linker released during the current call
  std::unordered_map<std::string, mapping::provider_type> practitioners_;
  statistics stats_;
  std::map<std::string, std::int64_t, std::less<>> by_outcome_, by_reason_;
};

}  // namespace covgate::engine
