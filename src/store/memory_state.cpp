#include "covgate/store/memory_state.hpp"

#include <stdexcept>

#include "covgate/model/claim_codec.hpp"
#include "covgate/model/decision_codec.hpp"

namespace covgate::store {

std::optional<engine::claim_record> memory_state::load(std::string_view claim_id) const {
  const auto it = records_.find(claim_id);
  if (it == records_.end()) return std::nullopt;
  auto claim = model::decode_claim(it->second.claim());
  auto decision = model::decode_decision(it->second.decision());
  // Only encode() wrote these bytes: failing to read them back is a bug, not bad input.
  if (!claim || !decision) throw std::logic_error("memory_state: a stored record does not decode");
  const auto& s = it->second;
  return engine::claim_record{std::move(*claim), std::move(*decision), std::string(s.source()),
                              s.closed,          s.csii_released,      s.events};
}

void memory_state::save(const engine::claim_record& record) {
  auto [it, inserted] = records_.try_emplace(record.claim.id);
  auto& s = it->second;
  const auto& patient = record.claim.subscriber.member_id;
  if (inserted || *s.patient != patient) {
    // A replacement may name another member id: the claim moves to that patient's list.
    if (!inserted) {
      std::erase(by_patient_.find(*s.patient)->second, &it->first);
      if (s.csii_released) --csii_released_[*s.patient];
      s.csii_released = false;
    }
    auto list = by_patient_.try_emplace(patient).first;
    list->second.push_back(&it->first);
    s.patient = &list->first;
  }
  if (record.csii_released != s.csii_released) {
    if (record.csii_released) {
      ++csii_released_[patient];
    } else {
      --csii_released_[patient];
    }
  }
  // Encoded in a buffer that keeps its capacity, then copied once at its exact size: growing
  // each record's own string from empty cost a reallocation per doubling and a shrink.
  encoding_.clear();
  model::encode(record.claim, encoding_);
  s.claim_size = static_cast<std::uint32_t>(encoding_.size());
  model::encode(record.decision, encoding_);
  s.decision_size = static_cast<std::uint32_t>(encoding_.size() - s.claim_size);
  encoding_ += record.source;
  s.bytes = std::string(encoding_);  // its capacity is its size, as shrink_to_fit left it
  s.result = record.decision.result;
  s.closed = record.closed;
  s.csii_released = record.csii_released;
  s.events = record.events;
}

std::vector<engine::claim_summary> memory_state::claims_of(std::string_view patient) const {
  std::vector<engine::claim_summary> out;
  const auto it = by_patient_.find(patient);
  if (it == by_patient_.end()) return out;
  out.reserve(it->second.size());
  for (const auto* id : it->second) {
    const auto& s = records_.find(*id)->second;
    out.push_back({*id, s.result, s.closed, s.csii_released});
  }
  return out;
}

std::vector<engine::claim_summary> memory_state::open_claims_of(std::string_view patient,
                                                                bool released_too) const {
  std::vector<engine::claim_summary> out;
  const auto it = by_patient_.find(patient);
  if (it == by_patient_.end()) return out;
  for (const auto* id : it->second) {
    const auto& s = records_.find(*id)->second;
    if (s.closed) continue;
    if (s.result == model::outcome::hold_documentation ||
        (released_too && s.result == model::outcome::release)) {
      out.push_back({*id, s.result, s.closed, s.csii_released});
    }
  }
  return out;
}

bool memory_state::csii_released_other_than(std::string_view patient,
                                            std::string_view claim_id) const {
  const auto it = csii_released_.find(patient);
  if (it == csii_released_.end() || it->second == 0) return false;
  const auto self = records_.find(claim_id);
  const bool counted_self =
      self != records_.end() && self->second.csii_released && *self->second.patient == patient;
  return it->second > (counted_self ? 1u : 0u);
}

void memory_state::for_each_open_decision(
    const std::function<void(const model::decision&)>& visit) const {
  for (const auto& [id, s] : records_) {
    if (s.closed) continue;
    if (auto d = model::decode_decision(s.decision())) visit(*d);
  }
}

void memory_state::record_history(std::string_view claim_id, const engine::history_entry& entry) {
  if (!keep_history_) return;
  auto it = history_.find(claim_id);
  if (it == history_.end()) it = history_.emplace(std::string(claim_id), 0).first;
  it->second.push_back(entry);
}

std::vector<engine::history_entry> memory_state::history(std::string_view claim_id) const {
  const auto it = history_.find(claim_id);
  return it == history_.end() ? std::vector<engine::history_entry>{} : it->second;
}

std::optional<engine::interchange_answer> memory_state::interchange(
    std::string_view sender_control) const {
  const auto it = interchanges_.find(sender_control);
  if (it == interchanges_.end()) return std::nullopt;
  return it->second;
}

void memory_state::remember_interchange(std::string_view sender_control, std::int64_t,
                                        const engine::interchange_answer& answer) {
  interchanges_.insert_or_assign(std::string(sender_control), answer);
}

std::int64_t memory_state::counter(std::string_view name, std::int64_t fallback) const {
  const auto it = counters_.find(name);
  return it == counters_.end() ? fallback : it->second;
}

void memory_state::set_counter(std::string_view name, std::int64_t value) {
  counters_.insert_or_assign(std::string(name), value);
}

}  // namespace covgate::store
