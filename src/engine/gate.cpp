#include "covgate/engine/gate.hpp"

#include <algorithm>
#include <iterator>
#include <mutex>
#include <span>

#include "covgate/model/claim_key.hpp"

namespace covgate::engine {

std::string_view name(event_kind k) noexcept {
  switch (k) {
    case event_kind::hold:
      return "hold";
    case event_kind::release:
      return "release";
    case event_kind::reopened:
      return "reopened";
    case event_kind::repeat:
      return "repeat";
    case event_kind::void_claim:
      return "void";
    case event_kind::cancel:
      return "cancel";
  }
  return "hold";
}

std::string_view name(disposition d) noexcept {
  switch (d) {
    case disposition::accepted:
      return "accepted";
    case disposition::hold:
      return "hold";
    case disposition::release:
      return "release";
    case disposition::closed:
      return "closed";
  }
  return "accepted";
}

std::optional<disposition> disposition_named(std::string_view text) noexcept {
  for (const auto d :
       {disposition::accepted, disposition::hold, disposition::release, disposition::closed}) {
    if (name(d) == text) return d;
  }
  return std::nullopt;
}

disposition disposition_of(const event& e) noexcept {
  switch (e.kind) {
    case event_kind::void_claim:
    case event_kind::cancel:
      return disposition::closed;
    case event_kind::release:
      return disposition::release;
    case event_kind::repeat:  // as the answer it repeats
      return e.decision.result == model::outcome::release ? disposition::release
                                                          : disposition::hold;
    case event_kind::hold:
    case event_kind::reopened:
      break;
  }
  return disposition::hold;
}

event::event(const event& other)
    : kind(other.kind),
      decision(other.decision),
      source(other.source),
      sequence(other.sequence),
      note(other.note),
      owned_(std::make_unique<model::claim>(other.claim())) {
  claim_ = owned_.get();
}

event& event::operator=(const event& other) {
  if (this != &other) *this = event(other);
  return *this;
}

std::string event::trace() const { return claim().id + "-" + std::to_string(sequence); }

std::string event::delivery_key() const { return model::delivery_key(claim(), sequence); }

gate::gate(const policy::policy_file& policy, const mapping::tables& tables, state& claims,
           event_handler on_event)
    : policy_(policy),
      tables_(tables),
      claims_(claims),
      on_event_(std::move(on_event)),
      linker_([this](model::fact&& f) { linked_.push_back(std::move(f)); }) {}

bool gate::is_csii(const model::claim& claim) const {
  for (const auto& l : claim.lines) {
    if (tables_.hcpcs(l.procedure_code) == mapping::hcpcs_class::csii) return true;
  }
  return false;
}

namespace {

// The context reads `facts` through pointers: they must outlive its use.
void view_facts(policy::patient_context& context, std::span<const model::fact> facts) {
  context.facts.reserve(facts.size());
  for (const auto& f : facts) context.facts.push_back(&f);
}

void own_facts(policy::patient_context& context, std::vector<model::fact> facts) {
  context.fact_storage = std::move(facts);
  view_facts(context, context.fact_storage);
}

}  // namespace

const std::string& gate::key_of(const model::claim& claim) {
  claim_key_.clear();
  model::append_claim_key(claim_key_, claim);
  return claim_key_;
}

policy::patient_context gate::context_for(const model::claim& claim) {
  policy::patient_context context;
  const auto& key = claim.subscriber.member_id;
  if (!key.empty()) {
    // Decoded into a list the gate keeps: the context is used at once (evaluate), so it views
    // the facts, and their strings' memory serves the next claim's.
    const auto count = facts_.for_patient(key, decoded_);
    view_facts(context, std::span<const model::fact>(decoded_).first(count));
  }
  // One lookup, not a walk over every claim of the patient: a member with thousands of
  // claims costs what one with a few does.
  context.earlier_csii_release = claims_.csii_released_other_than(key, key_of(claim));
  context.provider_type_of = [this](const std::string& reference) {
    const auto it = practitioners_.find(reference);
    return it == practitioners_.end() ? mapping::provider_type::unknown : it->second;
  };
  return context;
}

void gate::count(const model::decision& decision, int delta) {
  count(decision.result, decision.findings, delta);
}

void gate::count(model::outcome result, const std::vector<model::finding>& findings, int delta) {
  auto add = [delta](std::uint64_t& n) { n = static_cast<std::uint64_t>(std::int64_t(n) + delta); };
  add(stats_.by_outcome[static_cast<std::size_t>(result)]);
  if (result == model::outcome::release) return;
  // A reason counts once per claim, however many of its lines it holds.
  std::array<bool, model::reason_count> seen{};
  for (const auto& f : findings) {
    auto& once = seen[static_cast<std::size_t>(f.reason)];
    if (!once) add(stats_.by_reason[static_cast<std::size_t>(f.reason)]);
    once = true;
  }
}

gate::working gate::working_on(claim_record& loaded) {
  return {loaded.claim,  std::move(loaded.decision), loaded.source,
          loaded.closed, loaded.csii_released,       loaded.events};
}

void gate::emit(event_kind kind, working& record, const std::string& source, std::string note) {
  ++record.events;
  claims_.save(record.view());
  on_event_(event(kind, record.claim, std::move(record.decision), source, record.events,
                  std::move(note)));
}

void gate::evaluate(working& record, std::optional<event_kind> kind_if_changed,
                    const std::string& source, bool first_answer) {
  auto decision = policy::evaluate(record.claim, context_for(record.claim), policy_, tables_);
  const bool changed = decision.result != record.decision.result;
  if (!first_answer) count(record.decision, -1);
  count(decision, +1);
  record.decision = std::move(decision);
  if (record.decision.result == model::outcome::release && is_csii(record.claim)) {
    record.csii_released = true;
  }
  if (!changed && !first_answer) {
    claims_.save(record.view());  // the findings may have changed even when the outcome did not
    return;
  }
  const auto kind = kind_if_changed.value_or(
      record.decision.result == model::outcome::release ? event_kind::release : event_kind::hold);
  emit(kind, record, source);
}

void gate::on_claim(const model::claim& claim, const std::string& source, encoded_claim encoded) {
  ++stats_.claims;
  // By CLM01 and billing NPI: another provider's claim of the same CLM01 is another claim.
  auto existing = claims_.load(key_of(claim));
  if (existing && !existing->closed && existing->claim.frequency == claim.frequency &&
      claim.frequency != '7') {
    // The same claim again: answer it again (with the claim as now sent), not twice.
    ++stats_.duplicates;
    on_event_(
        event(event_kind::repeat, claim, std::move(existing->decision), source, existing->events));
    return;
  }
  working record{claim, {}, source};
  record.encoded = encoded;
  if (existing) {
    record.events = existing->events;
    if (!existing->closed) count(existing->decision, -1);  // superseded or voided
  }
  if (claim.frequency == '8') {
    ++stats_.voids;
    record.closed = true;
    record.decision.claim_id = claim.id;
    record.decision.patient = claim.subscriber.member_id;
    if (existing) {
      record.decision.policy = existing->decision.policy;
      record.decision.dos = existing->decision.dos;
    }
    emit(event_kind::void_claim, record, source);
    return;
  }
  if (claim.frequency == '7' && existing) ++stats_.replacements;
  evaluate(record, std::nullopt, source, true);
}

void gate::on_facts(std::vector<model::fact> facts, const std::string& source) {
  on_facts_spending(facts, source);
}

void gate::on_facts_spending(std::vector<model::fact>& facts, const std::string& source,
                             const model::fact_index::encoded_ahead* ahead) {
  std::set<std::string> touched;
  std::set<std::string> corrected;
  index_facts(facts, touched, corrected, true, ahead);
  for (const auto& key : touched) reevaluate_patient(key, corrected.count(key) > 0, source);
}

void gate::restore_facts(std::vector<model::fact> facts) {
  std::set<std::string> touched;
  std::set<std::string> corrected;
  index_facts(facts, touched, corrected, false);  // counted when they arrived
}

void gate::forget_resource(std::string_view resource) {
  const std::unique_lock writing(index_lock_);
  facts_.forget(resource);
  linker_.forget(resource);
  if (const auto it = practitioners_.find(std::string(resource)); it != practitioners_.end()) {
    practitioners_.erase(it);
  }
}

void gate::index_facts(std::vector<model::fact>& facts, std::set<std::string>& touched,
                       std::set<std::string>& corrected, bool count_them,
                       const model::fact_index::encoded_ahead* ahead) {
  // Most batches link where they lie (their Patients came first); from the first fact that
  // must wait for its Patient on, the linker takes them and hands on what is linked.
  std::size_t in_place = 0;
  while (in_place < facts.size() && linker_.link_in_place(facts[in_place])) ++in_place;
  auto* ready = &facts;
  if (in_place < facts.size()) {
    linked_.clear();
    linked_.reserve(facts.size());
    std::move(facts.begin(), facts.begin() + static_cast<std::ptrdiff_t>(in_place),
              std::back_inserter(linked_));
    for (auto i = in_place; i < facts.size(); ++i) linker_.add(std::move(facts[i]));
    ready = &linked_;
    ahead = nullptr;  // its runs were the batch's as it came, not as linked
  }
  auto& linked = *ready;
  // Each run of facts of one resource is applied where it lies: the index encodes it (spending
  // it) and nothing is moved into a group of its own.
  const auto resource_of = [&linked](std::size_t at) {
    return model::fact_index::resource_view_of(model::resource_id_of(linked[at]));
  };
  // The writer's lock is taken for up to entries_per_lock entries at a time: readers wait tens
  // of microseconds at most, and a batch of thousands does not pay a lock round per entry
  // (3 % of a records replay).
  constexpr std::size_t entries_per_lock = 64;
  std::unique_lock writing(index_lock_, std::defer_lock);
  std::size_t entries_locked = 0;
  // A patient's facts mostly come one after another: the key last put in `touched` (a node
  // of the set, so it stays put) is compared first, and the key is copied and the set
  // searched only for another patient (7 % of a records replay's gate thread).
  const std::string* last_touched = nullptr;
  // The runs first, with their table keys and the bodies encoded ahead, so that each run's
  // entry in the index can be warmed before it is applied (fact_index::warm). A run encoded
  // ahead is found by walking the runs alongside (the same grouping of the same facts; one
  // that does not line up is not used), and brings its key, hashed on the reader's thread.
  runs_.clear();
  const bool keys_ahead = facts_.hashes_by_default();
  for (std::size_t i = 0, k = 0; i < linked.size();) {
    const auto begin = i;
    const auto resource = resource_of(i);
    while (i < linked.size() && resource_of(i) == resource) ++i;
    fact_run run{static_cast<std::uint32_t>(begin), 0, {}};
    if (ahead != nullptr && k < ahead->runs.size() && ahead->runs[k].facts == i - begin) {
      const auto& r = ahead->runs[k++];
      run.encoded = std::string_view(ahead->bytes).substr(r.begin, r.size);
      run.key = keys_ahead ? r.key : facts_.key_of(resource);
    } else {
      ahead = nullptr;
      run.key = facts_.key_of(resource);
    }
    runs_.push_back(run);
  }
  // Each run's entry fetched while the runs before it are applied.
  constexpr std::size_t warm_ahead = 8;
  for (std::size_t r = 0; r < std::min(warm_ahead, runs_.size()); ++r) facts_.warm(runs_[r].key);
  for (std::size_t r = 0; r < runs_.size(); ++r) {
    if (r + warm_ahead < runs_.size()) facts_.warm(runs_[r + warm_ahead].key);
    const std::size_t begin = runs_[r].begin;
    const std::size_t end = r + 1 < runs_.size() ? runs_[r + 1].begin : linked.size();
    const std::span<model::fact> group(linked.data() + begin, end - begin);
    if (count_them) ++stats_.facts;
    const auto& first = group.front();
    const auto& key_in_group = model::patient_key_of(first);
    const bool same_patient = last_touched != nullptr && *last_touched == key_in_group;
    // A copy of another patient's key: apply() clears it in the group.
    std::string key = same_patient ? std::string() : key_in_group;
    if (!writing.owns_lock()) writing.lock();
    if (const auto* p = std::get_if<model::practitioner>(&first)) {
      practitioners_[p->resource_id] = p->type;
    } else if (const auto* role = std::get_if<model::practitioner_role>(&first)) {
      practitioners_[role->resource_id] = role->type;
    }
    const auto change = facts_.apply(group, runs_[r].encoded, runs_[r].key);
    if (++entries_locked == entries_per_lock) {
      writing.unlock();
      entries_locked = 0;
    }
    if (change == model::fact_index::change::ignored) continue;
    if (!same_patient) {
      if (key.empty()) continue;  // a fact of no patient (a Practitioner, say)
      last_touched = &*touched.insert(std::move(key)).first;
    }
    if (change == model::fact_index::change::replaced ||
        change == model::fact_index::change::retracted) {
      corrected.insert(*last_touched);
    }
  }
}

gate::review_result gate::review(std::string_view claim_key, bool release,
                                 const std::string& source, const std::string& note) {
  auto loaded = claims_.load(claim_key);
  if (!loaded) return review_result::unknown_claim;
  if (loaded->closed) return review_result::already_closed;  // cancelled, voided or replaced
  const auto result = loaded->decision.result;
  if (result == model::outcome::release || result == model::outcome::hold_documentation) {
    return review_result::not_reviewable;
  }
  auto record = working_on(*loaded);
  count(record.decision, -1);
  if (release) {
    // The findings stay: they say what the reviewer overrode.
    record.decision.result = model::outcome::release;
    count(record.decision, +1);
    emit(event_kind::release, record, source, note);
  } else {
    record.closed = true;
    emit(event_kind::cancel, record, source, note);
  }
  return review_result::done;
}

void gate::reevaluate_patient(const std::string& key, bool corrected, const std::string& source) {
  // Only the claims a fact can change: documentation holds, and releases when a fact was
  // retracted or corrected (it may take away what released them).
  for (const auto& summary : claims_.open_claims_of(key, corrected)) {
    auto loaded = *claims_.load(summary.id);  // moved out of the optional
    auto record = working_on(loaded);
    if (summary.result == model::outcome::hold_documentation) {
      evaluate(record, std::nullopt, source, false);
    } else {
      // It may have left already, so the change is reported as "reopened".
      evaluate(record, event_kind::reopened, source, false);
    }
  }
}

statistics gate::summary() const { return stats_; }

std::optional<claim_record> gate::find(std::string_view claim_key) const {
  return claims_.load(claim_key);
}

policy::patient_context gate::context_of(const std::string& patient_key) const {
  policy::patient_context context;
  if (!patient_key.empty()) {
    std::shared_lock reading(index_lock_);
    own_facts(context, facts_.for_patient(patient_key));
  }
  context.provider_type_of = [this](const std::string& reference) {
    std::shared_lock reading(index_lock_);
    const auto it = practitioners_.find(reference);
    return it == practitioners_.end() ? mapping::provider_type::unknown : it->second;
  };
  return context;
}

}  // namespace covgate::engine
