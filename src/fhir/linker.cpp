#include "covgate/fhir/linker.hpp"

#include <iterator>

#include "covgate/model/fact_index.hpp"

namespace covgate::fhir {

std::string* linker::patient_of(model::fact& f) {
  return std::visit(
      [](auto& v) -> std::string* {
        if constexpr (requires { v.patient; }) {
          return &v.patient;
        } else {
          return nullptr;
        }
      },
      f);
}

std::string* linker::key_of(model::fact& f) {
  return std::visit(
      [](auto& v) -> std::string* {
        if constexpr (requires { v.patient_key; }) {
          return &v.patient_key;
        } else {
          return nullptr;
        }
      },
      f);
}

bool linker::link(model::fact& fact) {
  if (const auto* p = std::get_if<model::patient>(&fact)) {
    if (!p->key.empty()) {
      keys_.insert_or_assign(reference{p->resource_id, model::text_hash32(p->resource_id)}, p->key);
      last_reference_ = p->resource_id;
      last_key_ = p->key;
    }
    return true;
  }
  auto* patient = patient_of(fact);
  auto* key = key_of(fact);
  if (patient == nullptr || key == nullptr || !key->empty()) return true;
  if (!last_reference_.empty() && *patient == last_reference_) {
    *key = last_key_;
    return true;
  }
  const auto it = keys_.find(*patient);
  if (it == keys_.end()) return false;
  *key = it->second;
  last_reference_ = it->first.text;
  last_key_ = it->second;
  return true;
}

bool linker::link_in_place(model::fact& fact) {
  // While anything waits, a Patient may have facts to release after it: add() does that.
  return waiting_.empty() && link(fact);
}

void linker::add(model::fact&& fact) {
  if (!link(fact)) {
    ++waiting_count_;
    waiting_[*patient_of(fact)].push_back(std::move(fact));
    return;
  }
  const auto* p = std::get_if<model::patient>(&fact);
  // Most Patients come before their facts: nothing waits, and nothing is looked up.
  if (p == nullptr || p->key.empty() || waiting_.empty()) return on_ready_(std::move(fact));
  const auto it = waiting_.find(p->resource_id);
  const std::string key = p->key;  // the Patient is handed on before what waited for it
  on_ready_(std::move(fact));
  if (it == waiting_.end()) return;
  auto held = std::move(it->second);
  waiting_.erase(it);
  waiting_count_ -= held.size();
  for (auto& f : held) {
    *key_of(f) = key;
    on_ready_(std::move(f));
  }
}

void linker::forget(std::string_view resource) {
  if (const auto it = keys_.find(resource); it != keys_.end()) keys_.erase(it);
  if (resource == last_reference_) {
    last_reference_.clear();
    last_key_.clear();
  }
  if (waiting_count_ == 0) return;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    waiting_count_ -= std::erase_if(it->second, [&](const model::fact& f) {
      return model::fact_index::resource_view_of(model::resource_id_of(f)) == resource;
    });
    it = it->second.empty() ? waiting_.erase(it) : std::next(it);
  }
}

std::vector<model::fact> linker::take_waiting() {
  std::vector<model::fact> out;
  for (auto& [patient, facts] : waiting_) {
    for (auto& f : facts) out.push_back(std::move(f));
  }
  waiting_.clear();
  waiting_count_ = 0;
  return out;
}

}  // namespace covgate::fhir
