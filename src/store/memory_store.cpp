#include "covgate/store/memory_store.hpp"

#include <stdexcept>

#include "covgate/model/claim_codec.hpp"
#include "covgate/store/record_codec.hpp"

namespace covgate::store {

std::optional<claim_record> memory_store::load(std::string_view claim_id) const {
  const auto it = records_.find(claim_id);
  if (it == records_.end()) return std::nullopt;
  auto claim = model::decode_claim(it->second.claim);
  auto decision = decode_decision(it->second.decision);
  // Only encode() wrote these bytes: failing to read them back is a bug, not bad input.
  if (!claim || !decision) throw std::logic_error("memory_store: a stored record does not decode");
  const auto& s = it->second;
  return claim_record{std::move(*claim), std::move(*decision), s.source,
                      s.closed,          s.csii_released,      s.events};
}

void memory_store::save(const claim_record& record) {
  auto [it, inserted] = records_.try_emplace(record.claim.id);
  auto& s = it->second;
  const auto& patient = record.claim.subscriber.member_id;
  if (inserted || s.patient != patient) {
    // A replacement may name another member id: the claim moves to that patient's list.
    if (!inserted) std::erase(by_patient_[s.patient], record.claim.id);
    by_patient_[patient].push_back(record.claim.id);
    s.patient = patient;
  }
  s.claim.clear();
  model::encode(record.claim, s.claim);
  s.claim.shrink_to_fit();
  s.decision.clear();
  encode(record.decision, s.decision);
  s.decision.shrink_to_fit();
  s.result = record.decision.result;
  s.source = record.source;
  s.closed = record.closed;
  s.csii_released = record.csii_released;
  s.events = record.events;
}

std::vector<claim_summary> memory_store::claims_of(std::string_view patient) const {
  std::vector<claim_summary> out;
  const auto it = by_patient_.find(patient);
  if (it == by_patient_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& id : it->second) {
    const auto& s = records_.find(id)->second;
    out.push_back({id, s.result, s.closed, s.csii_released});
  }
  return out;
}

}  // namespace covgate::store
