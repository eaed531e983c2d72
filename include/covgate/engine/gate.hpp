// The Gate: claims and facts in arrival order, decisions out. A claim is evaluated at once
// against the facts known; a fact re-evaluates the patient's held claims and releases the
// documentation holds that now pass; a retracted or corrected fact re-evaluates released
// claims too and reports the ones that no longer pass ("reopened"). Replacements (frequency
// 7) supersede the original, voids (8) close it, and a claim sent twice is answered again,
// not processed twice. No I/O, no clock: the caller passes messages and gets events. Claim
// state lives behind engine::state; facts and practitioners in memory.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "covgate/engine/event.hpp"
#include "covgate/engine/state.hpp"
#include "covgate/fhir/linker.hpp"
#include "covgate/mapping/tables.hpp"
#include "covgate/model/claim.hpp"
#include "covgate/model/decision.hpp"
#include "covgate/model/fact_index.hpp"
#include "covgate/policy/policy.hpp"

namespace covgate::engine {

/// Counts for the end-of-run summary and the metrics.
struct statistics {
  std::uint64_t claims = 0, duplicates = 0, replacements = 0, voids = 0, facts = 0;
  /// Open claims by current outcome (indexed by model::outcome).
  std::array<std::uint64_t, std::size(model::outcomes)> by_outcome{};
  /// Open holds by reason, each claim counted once per reason (indexed by model::reason).
  std::array<std::uint64_t, model::reason_count> by_reason{};
};

class gate {
 public:
  using event_handler = std::function<void(event&&)>;

  /// `claims` outlives the gate; the gate is its only writer of claims.
  gate(const policy::policy_file& policy, const mapping::tables& tables, state& claims,
       event_handler on_event);

  /// A claim from an accepted transaction set. Emits one event (hold, release, void or
  /// repeat), which borrows the claim: the caller keeps it unchanged until the event's handler
  /// is done with it (a claim is some hundred strings: it is neither moved nor copied on its
  /// way to the 277). `encoded`: the claim encoded ahead for the state
  /// (claim_record_view::encoded), or empty views.
  void on_claim(const model::claim& claim, const std::string& source, encoded_claim encoded = {});

  /// The facts of one message, in order (taken over). Linked facts update the fact index; the
  /// patients they touch have their open claims re-evaluated.
  void on_facts(std::vector<model::fact> facts, const std::string& source);
  /// As on_facts, applied where they lie: `facts` is left spent (each fact moved from or
  /// stripped by the index, their memory still held) for the caller to free where it
  /// chooses. The intake frees a batch read ahead on the pool's threads, not the gate's: the
  /// frees of a batch's strings were 9 % of the gate's work on a records file (callgrind).
  /// `ahead`: the batch's records encoded on another thread (fact_index::encode_ahead), or
  /// null.
  void on_facts_spending(std::vector<model::fact>& facts, const std::string& source,
                         const model::fact_index::encoded_ahead* ahead = nullptr);

  /// Facts recovered at start-up (a durable store's journal): linked and indexed, but no claim
  /// is re-evaluated (the stored decisions already reflect them) and no event is emitted.
  void restore_facts(std::vector<model::fact> facts);
  /// Forgets what one resource (an id without a "#…" suffix) brought: its indexed facts, its
  /// link or waiting facts in the linker, the practitioner it named. The caller took its row
  /// out beneath the gate (a cluster partition's stale copy replaced by a snapshot) and
  /// restores what its state holds now; nothing is re-evaluated, the counts stay (the caller
  /// moves them with count_stored() and forget_stored()).
  void forget_resource(std::string_view resource);

  enum class review_result : std::uint8_t { done, unknown_claim, already_closed, not_reviewable };
  /// A reviewer's decision on a claim held for review, as not covered, or as invalid (holds
  /// that never leave by themselves): release it (event release) or cancel it (event cancel,
  /// the claim is closed). `source` names the reviewer ("review:<who>"), `note` says why.
  /// Documentation holds are not reviewable: they leave when their evidence arrives.
  /// `claim_key` is the claim's key (model/claim_key.hpp: CLM01 and its billing NPI).
  review_result review(std::string_view claim_key, bool release, const std::string& source,
                       const std::string& note);

  [[nodiscard]] statistics summary() const;
  /// Counts an open claim stored before the gate existed (at start-up), so the summary and
  /// the metrics speak for every claim, not only those seen since.
  void count_stored(const model::decision& decision) { count(decision, +1); }
  /// Uncounts an open claim the state no longer holds (taken out beneath the gate).
  void forget_stored(const model::decision& decision) { count(decision, -1); }
  /// The current state of the claim of `claim_key` (model/claim_key.hpp), or nullopt.
  [[nodiscard]] std::optional<claim_record> find(std::string_view claim_key) const;
  /// What the policy would read about `patient_key` now: its current facts (decoded copies the
  /// context owns) and the provider types of the practitioners seen (valid while the gate
  /// lives). The audit and the worklist's evidence read it. The one member another thread may
  /// call while the host's thread feeds the gate: a read model must not wait for a fact that
  /// re-evaluates thousands of holds, so it reads the fact index under a shared lock that the
  /// gate takes exclusively only while it writes an index entry.
  [[nodiscard]] policy::patient_context context_of(const std::string& patient_key) const;

 private:
  /// A claim's state while the gate works on it: the claim borrowed (from the caller, or
  /// from a record loaded from the state), the rest its own.
  struct working {
    const model::claim& claim;
    model::decision decision;
    std::string_view source;
    bool closed = false;
    bool csii_released = false;
    std::uint32_t events = 0;
    encoded_claim encoded = {};  // claim_record_view::encoded: only a claim as it came
    [[nodiscard]] claim_record_view view() const {
      return {claim, decision, source, closed, csii_released, events, encoded};
    }
  };
  /// A loaded record to work on; `loaded` must outlive the result (its claim is borrowed).
  static working working_on(claim_record& loaded);

  /// Re-evaluates `record`, saves it, and emits an event when its outcome changed (or always,
  /// for a claim's first answer), of kind `kind_if_changed` or else "hold"/"release". An
  /// emitted event takes `record`'s decision and borrows its claim.
  void evaluate(working& record, std::optional<event_kind> kind_if_changed,
                const std::string& source, bool first_answer);
  void emit(event_kind kind, working& record, const std::string& source, std::string note = {});
  /// The claim's patient as the policy reads it, for one evaluation: its facts are views into
  /// decoded_, valid until the next call.
  policy::patient_context context_for(const model::claim& claim);
  /// The claim's key (model::claim_key) in claim_key_, valid until the next call.
  const std::string& key_of(const model::claim& claim);
  void reevaluate_patient(const std::string& key, bool corrected, const std::string& source);
  /// Links and indexes facts, leaving them spent; the patients whose facts changed, and those
  /// corrected.
  void index_facts(std::vector<model::fact>& facts, std::set<std::string>& touched,
                   std::set<std::string>& corrected, bool count_them = true,
                   const model::fact_index::encoded_ahead* ahead = nullptr);
  bool is_csii(const model::claim& claim) const;
  /// Adds (+1) or removes (-1) an open claim's decision from the summary counts.
  void count(const model::decision& decision, int delta);
  void count(model::outcome result, const std::vector<model::finding>& findings, int delta);

  const policy::policy_file& policy_;
  const mapping::tables& tables_;
  state& claims_;
  event_handler on_event_;
  // The facts and practitioners: written only by the gate's caller, under index_lock_
  // exclusively; context_of() reads them under it shared. The caller's own reads need no lock.
  mutable std::shared_mutex index_lock_;
  model::fact_index facts_;
  fhir::linker linker_;
  std::vector<model::fact> decoded_;  // the facts context_for() decoded last, reused
  std::vector<model::fact> linked_;   // a batch's facts, when some had to wait for a Patient
  // index_facts()'s runs of facts of one resource: where each begins, its table key and its
  // body encoded ahead (empty: none).
  struct fact_run {
    std::uint32_t begin = 0;
    std::uint32_t key = 0;
    std::string_view encoded;
  };
  std::vector<fact_run> runs_;
  std::string claim_key_;  // the key of the claim at hand, built in a buffer kept (no allocation)
  std::unordered_map<std::string, mapping::provider_type> practitioners_;
  statistics stats_;
};

}  // namespace covgate::engine
