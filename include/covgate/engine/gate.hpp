// The Gate: claims and facts in arrival order, decisions out. A claim is evaluated at once
// against the facts known; a fact re-evaluates the patient's held claims and releases the
// documentation holds that now pass; a retracted or corrected fact re-evaluates released
// claims too and reports the ones that no longer pass ("reopened"). Replacements (frequency
// 7) supersede the original, voids (8) close it, and a claim sent twice is answered again,
// not processed twice. No I/O, no clock: the caller passes messages and gets events.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "covgate/fhir/linker.hpp"
#include "covgate/mapping/tables.hpp"
#include "covgate/model/claim.hpp"
#include "covgate/model/decision.hpp"
#include "covgate/model/fact_index.hpp"
#include "covgate/policy/policy.hpp"

namespace covgate::engine {

/// One change of a claim's outcome (or a repeated answer), as the gate reports it.
struct event {
  /// "hold", "release", "reopened" (a released claim no longer passes), "repeat" (a duplicate
  /// answered again) or "void" (frequency 8 closed the claim).
  std::string kind;
  const model::claim* claim = nullptr;
  model::decision decision;
  std::string source;  ///< where the claim or the fact that caused it came from
};

/// Counts for the end-of-run summary.
struct statistics {
  std::uint64_t claims = 0, duplicates = 0, replacements = 0, voids = 0, facts = 0;
  std::map<std::string, std::uint64_t> by_outcome;  ///< current outcome of every open claim
  std::map<std::string, std::uint64_t> by_reason;   ///< reasons of current holds
};

/// The claim state a store keeps. The in-memory gate holds it directly; a durable store
/// (the servers issue) persists the same records.
struct claim_record {
  model::claim claim;
  model::decision decision;
  std::string source;
  bool closed = false;  ///< voided or replaced: no further events
  bool csii_released = false;
};

class gate {
 public:
  using event_handler = std::function<void(const event&)>;

  gate(const policy::policy_file& policy, const mapping::tables& tables, event_handler on_event);

  /// A claim from an accepted transaction set. Emits one event ("hold", "release" or
  /// "repeat").
  void on_claim(model::claim claim, const std::string& source);

  /// The facts of one message, in order. Linked facts update the fact index; the patients they
  /// touch have their open claims re-evaluated.
  void on_facts(const std::vector<model::fact>& facts, const std::string& source);

  [[nodiscard]] statistics summary() const;
  /// The current state of a claim, or nullptr.
  [[nodiscard]] const claim_record* find(const std::string& claim_id) const;

 private:
  /// Re-evaluates `record`; emits an event when its outcome changed (or always, for a claim's
  /// first answer), of kind `kind_if_changed` or else "hold"/"release".
  void evaluate(claim_record& record, const std::string& kind_if_changed, const std::string& source,
                bool always_emit);
  policy::patient_context context_for(const claim_record& record) const;
  void reevaluate_patient(const std::string& key, bool corrected, const std::string& source);
  bool is_csii(const model::claim& claim) const;

  const policy::policy_file& policy_;
  const mapping::tables& tables_;
  event_handler on_event_;
  model::fact_index facts_;
  fhir::linker linker_;
  std::vector<model::fact> linked_;  // facts the linker released during the current call
  std::unordered_map<std::string, mapping::provider_type> practitioners_;
  std::map<std::string, claim_record> claims_;  // by CLM01 (ordered: reproducible output)
  std::unordered_map<std::string, std::vector<std::string>> claims_by_patient_;
  statistics stats_;
};

}  // namespace covgate::engine
