#include "covgate/engine/gate.hpp"

#include <set>

namespace covgate::engine {

gate::gate(const policy::policy_file& policy, const mapping::tables& tables, event_handler on_event)
    : policy_(policy),
      tables_(tables),
      on_event_(std::move(on_event)),
      linker_([this](const model::fact& f) { linked_.push_back(f); }) {}

bool gate::is_csii(const model::claim& claim) const {
  for (const auto& l : claim.lines) {
    if (tables_.hcpcs(l.procedure_code) == mapping::hcpcs_class::csii) return true;
  }
  return false;
}

policy::patient_context gate::context_for(const claim_record& record) const {
  policy::patient_context context;
  const auto& key = record.claim.subscriber.member_id;
  if (!key.empty()) context.facts = facts_.for_patient(key);
  if (const auto it = claims_by_patient_.find(key); it != claims_by_patient_.end()) {
    for (const auto& id : it->second) {
      const auto& other = claims_.at(id);
      if (&other != &record && other.csii_released) context.earlier_csii_release = true;
    }
  }
  context.provider_type_of = [this](const std::string& reference) {
    const auto it = practitioners_.find(reference);
    return it == practitioners_.end() ? mapping::provider_type::unknown : it->second;
  };
  return context;
}

void gate::evaluate(claim_record& record, const std::string& kind_if_changed,
                    const std::string& source, bool always_emit) {
  auto decision = policy::evaluate(record.claim, context_for(record), policy_, tables_);
  const bool changed = decision.result != record.decision.result;
  record.decision = std::move(decision);
  if (record.decision.result == model::outcome::release && is_csii(record.claim)) {
    record.csii_released = true;
  }
  if (!changed && !always_emit) return;
  std::string kind = kind_if_changed;
  if (kind.empty()) kind = record.decision.result == model::outcome::release ? "release" : "hold";
  on_event_({kind, &record.claim, record.decision, source});
}

void gate::on_claim(model::claim claim, const std::string& source) {
  ++stats_.claims;
  auto it = claims_.find(claim.id);
  if (it != claims_.end() && !it->second.closed && it->second.claim.frequency == claim.frequency &&
      claim.frequency != '7') {
    // The same claim again: answer it again, do not process it twice.
    ++stats_.duplicates;
    on_event_({"repeat", &it->second.claim, it->second.decision, source});
    return;
  }
  if (claim.frequency == '8') {
    ++stats_.voids;
    claim_record record;
    record.claim = std::move(claim);
    record.source = source;
    record.closed = true;
    record.decision.claim_id = claim.id;
    record.decision.patient = claim.subscriber.member_id;
    record.decision.result = model::outcome::release;
    if (it != claims_.end()) {
      record.decision.policy = it->second.decision.policy;
      record.decision.dos = it->second.decision.dos;
      it->second = std::move(record);
    } else {
      const auto id = record.claim.id;
      it = claims_.emplace(id, std::move(record)).first;
    }
    on_event_({"void", &it->second.claim, it->second.decision, source});
    return;
  }
  if (claim.frequency == '7' && it != claims_.end()) ++stats_.replacements;
  claim_record record;
  record.claim = std::move(claim);
  record.source = source;
  record.decision.result = model::outcome::release;
  if (it != claims_.end()) {
    it->second = std::move(record);  // a replacement supersedes the original
  } else {
    const auto id = record.claim.id;
    const auto member = record.claim.subscriber.member_id;
    it = claims_.emplace(id, std::move(record)).first;
    claims_by_patient_[member].push_back(id);
  }
  evaluate(it->second, "", source, true);
}

void gate::on_facts(const std::vector<model::fact>& facts, const std::string& source) {
  linked_.clear();
  for (const auto& f : facts) linker_.add(f);
  std::set<std::string> touched;
  std::set<std::string> corrected;
  std::size_t i = 0;
  while (i < linked_.size()) {
    const auto resource = model::fact_index::resource_of(model::resource_id_of(linked_[i]));
    std::vector<model::fact> group;
    while (i < linked_.size() &&
           model::fact_index::resource_of(model::resource_id_of(linked_[i])) == resource) {
      group.push_back(linked_[i++]);
    }
    ++stats_.facts;
    const auto& first = group.front();
    if (const auto* p = std::get_if<model::practitioner>(&first)) {
      practitioners_[p->resource_id] = p->type;
    } else if (const auto* r = std::get_if<model::practitioner_role>(&first)) {
      practitioners_[r->resource_id] = r->type;
    }
    const auto change = facts_.apply(group);
    const auto& key = model::patient_key_of(first);
    if (key.empty() || change == model::fact_index::change::ignored) continue;
    touched.insert(key);
    if (change == model::fact_index::change::replaced ||
        change == model::fact_index::change::retracted) {
      corrected.insert(key);
    }
  }
  for (const auto& key : touched) reevaluate_patient(key, corrected.count(key) > 0, source);
}

void gate::reevaluate_patient(const std::string& key, bool corrected, const std::string& source) {
  const auto it = claims_by_patient_.find(key);
  if (it == claims_by_patient_.end()) return;
  for (const auto& id : it->second) {
    auto& record = claims_.at(id);
    if (record.closed) continue;
    const auto before = record.decision.result;
    if (before == model::outcome::hold_documentation) {
      evaluate(record, "", source, false);
    } else if (before == model::outcome::release && corrected) {
      // A retracted or corrected fact may take away what released the claim; it may have
      // left already, so the change is reported as "reopened".
      evaluate(record, "reopened", source, false);
    }
  }
}

statistics gate::summary() const {
  statistics s = stats_;
  for (const auto& [id, record] : claims_) {
    if (record.closed) continue;
    ++s.by_outcome[std::string(model::name(record.decision.result))];
    if (record.decision.result == model::outcome::release) continue;
    for (const auto& f : record.decision.findings) ++s.by_reason[std::string(f.reason)];
  }
  return s;
}

const claim_record* gate::find(const std::string& claim_id) const {
  const auto it = claims_.find(claim_id);
  return it == claims_.end() ? nullptr : &it->second;
}

}  // namespace covgate::engine
