#include "covgate/engine/gate.hpp"

#include <mutex>

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

std::string event::trace() const { return claim.id + "-" + std::to_string(sequence); }

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

void own_facts(policy::patient_context& context, std::vector<model::fact> facts) {
  context.fact_storage = std::move(facts);
  context.facts.reserve(context.fact_storage.size());
  for (const auto& f : context.fact_storage) context.facts.push_back(&f);
}

}  // namespace

policy::patient_context gate::context_for(const claim_record& record) const {
  policy::patient_context context;
  const auto& key = record.claim.subscriber.member_id;
  if (!key.empty()) own_facts(context, facts_.for_patient(key));
  // One lookup, not a walk over every claim of the patient: a member with thousands of
  // claims costs what one with a few does.
  context.earlier_csii_release = claims_.csii_released_other_than(key, record.claim.id);
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

void gate::emit(event_kind kind, claim_record& record, const std::string& source,
                std::string note) {
  ++record.events;
  claims_.save(record);
  on_event_({kind, std::move(record.claim), std::move(record.decision), source, record.events,
             std::move(note)});
}

void gate::evaluate(claim_record& record, std::optional<event_kind> kind_if_changed,
                    const std::string& source, bool first_answer) {
  auto decision = policy::evaluate(record.claim, context_for(record), policy_, tables_);
  const bool changed = decision.result != record.decision.result;
  if (!first_answer) count(record.decision, -1);
  count(decision, +1);
  record.decision = std::move(decision);
  if (record.decision.result == model::outcome::release && is_csii(record.claim)) {
    record.csii_released = true;
  }
  if (!changed && !first_answer) {
    claims_.save(record);  // the findings may have changed even when the outcome did not
    return;
  }
  const auto kind = kind_if_changed.value_or(
      record.decision.result == model::outcome::release ? event_kind::release : event_kind::hold);
  emit(kind, record, source);
}

void gate::on_claim(model::claim&& claim, const std::string& source) {
  ++stats_.claims;
  auto existing = claims_.load(claim.id);
  if (existing && !existing->closed && existing->claim.frequency == claim.frequency &&
      claim.frequency != '7') {
    // The same claim again: answer it again (with the claim as now sent), not twice.
    ++stats_.duplicates;
    on_event_({event_kind::repeat,
               std::move(claim),
               std::move(existing->decision),
               source,
               existing->events,
               {}});
    return;
  }
  // The claim moves once, into its record (not default-built and assigned), and from there
  // into its event.
  claim_record record{std::move(claim), {}, source};
  if (existing) {
    record.events = existing->events;
    if (!existing->closed) count(existing->decision, -1);  // superseded or voided
  }
  if (record.claim.frequency == '8') {
    ++stats_.voids;
    record.closed = true;
    record.decision.claim_id = record.claim.id;
    record.decision.patient = record.claim.subscriber.member_id;
    if (existing) {
      record.decision.policy = existing->decision.policy;
      record.decision.dos = existing->decision.dos;
    }
    emit(event_kind::void_claim, record, source);
    return;
  }
  if (record.claim.frequency == '7' && existing) ++stats_.replacements;
  evaluate(record, std::nullopt, source, true);
}

void gate::on_facts(std::vector<model::fact> facts, const std::string& source) {
  std::set<std::string> touched;
  std::set<std::string> corrected;
  index_facts(std::move(facts), touched, corrected);
  for (const auto& key : touched) reevaluate_patient(key, corrected.count(key) > 0, source);
}

void gate::restore_facts(std::vector<model::fact> facts) {
  std::set<std::string> touched;
  std::set<std::string> corrected;
  index_facts(std::move(facts), touched, corrected, false);  // counted when they arrived
}

void gate::index_facts(std::vector<model::fact> facts, std::set<std::string>& touched,
                       std::set<std::string>& corrected, bool count_them) {
  linked_.clear();
  for (auto& f : facts) linker_.add(std::move(f));
  std::size_t i = 0;
  while (i < linked_.size()) {
    // A copy: the group's facts are moved out of linked_ (a view could dangle), one per group.
    const std::string resource(
        model::fact_index::resource_view_of(model::resource_id_of(linked_[i])));
    std::vector<model::fact> group;
    while (i < linked_.size() &&
           model::fact_index::resource_view_of(model::resource_id_of(linked_[i])) == resource) {
      group.push_back(std::move(linked_[i++]));
    }
    if (count_them) ++stats_.facts;
    const auto& first = group.front();
    auto key = model::patient_key_of(first);
    model::fact_index::change change;
    {
      std::unique_lock writing(index_lock_);  // held for one entry: readers wait microseconds
      if (const auto* p = std::get_if<model::practitioner>(&first)) {
        practitioners_[p->resource_id] = p->type;
      } else if (const auto* r = std::get_if<model::practitioner_role>(&first)) {
        practitioners_[r->resource_id] = r->type;
      }
      change = facts_.apply(std::move(group));
    }
    if (key.empty() || change == model::fact_index::change::ignored) continue;
    if (change == model::fact_index::change::replaced ||
        change == model::fact_index::change::retracted) {
      corrected.insert(key);
    }
    touched.insert(std::move(key));
  }
}

gate::review_result gate::review(std::string_view claim_id, bool release, const std::string& source,
                                 const std::string& note) {
  auto record = claims_.load(claim_id);
  if (!record) return review_result::unknown_claim;
  if (record->closed) return review_result::already_closed;  // cancelled, voided or replaced
  const auto result = record->decision.result;
  if (result == model::outcome::release || result == model::outcome::hold_documentation) {
    return review_result::not_reviewable;
  }
  count(record->decision, -1);
  if (release) {
    // The findings stay: they say what the reviewer overrode.
    record->decision.result = model::outcome::release;
    count(record->decision, +1);
    emit(event_kind::release, *record, source, note);
  } else {
    record->closed = true;
    emit(event_kind::cancel, *record, source, note);
  }
  return review_result::done;
}

void gate::reevaluate_patient(const std::string& key, bool corrected, const std::string& source) {
  // Only the claims a fact can change: documentation holds, and releases when a fact was
  // retracted or corrected (it may take away what released them).
  for (const auto& summary : claims_.open_claims_of(key, corrected)) {
    auto record = *claims_.load(summary.id);  // moved out of the optional
    if (summary.result == model::outcome::hold_documentation) {
      evaluate(record, std::nullopt, source, false);
    } else {
      // It may have left already, so the change is reported as "reopened".
      evaluate(record, event_kind::reopened, source, false);
    }
  }
}

statistics gate::summary() const { return stats_; }

std::optional<claim_record> gate::find(std::string_view claim_id) const {
  return claims_.load(claim_id);
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
