#include "covgate/model/fact_index.hpp"

#include <algorithm>

namespace covgate::model {

std::string fact_index::resource_of(const std::string& fact_id) {
  const auto hash = fact_id.find('#');
  return hash == std::string::npos ? fact_id : fact_id.substr(0, hash);
}

fact_index::change fact_index::apply(std::vector<fact> group) {
  if (group.empty()) return change::ignored;
  const auto resource = resource_of(resource_id_of(group.front()));
  const auto it = by_resource_.find(resource);
  if (std::holds_alternative<retraction>(group.front())) {
    if (it == by_resource_.end()) return change::ignored;
    auto& list = by_patient_[it->second.patient_key];
    list.erase(std::remove(list.begin(), list.end(), resource), list.end());
    by_resource_.erase(it);
    return change::retracted;
  }
  auto updated = last_updated_of(group.front());
  auto key = patient_key_of(group.front());
  entry next{std::move(group), std::move(updated), std::move(key)};
  if (it == by_resource_.end()) {
    by_patient_[next.patient_key].push_back(resource);
    by_resource_.emplace(resource, std::move(next));
    return change::added;
  }
  if (older_version(next.last_updated, it->second.last_updated)) return change::ignored;
  if (it->second.patient_key != next.patient_key) {
    auto& list = by_patient_[it->second.patient_key];
    list.erase(std::remove(list.begin(), list.end(), resource), list.end());
    by_patient_[next.patient_key].push_back(resource);
  }
  it->second = std::move(next);
  return change::replaced;
}

std::vector<const fact*> fact_index::for_patient(const std::string& patient_key) const {
  std::vector<const fact*> out;
  const auto it = by_patient_.find(patient_key);
  if (it == by_patient_.end()) return out;
  for (const auto& resource : it->second) {
    for (const auto& f : by_resource_.at(resource).facts) out.push_back(&f);
  }
  return out;
}

const std::vector<fact>* fact_index::find(const std::string& resource_id) const {
  const auto it = by_resource_.find(resource_id);
  return it == by_resource_.end() ? nullptr : &it->second.facts;
}

}  // namespace covgate::model
