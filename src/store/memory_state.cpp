#include "covgate/store/memory_state.hpp"

#include <cstring>
#include <memory>
#include <stdexcept>

#include "covgate/model/claim_codec.hpp"
#include "covgate/model/claim_key.hpp"
#include "covgate/model/decision_codec.hpp"

namespace covgate::store {

const memory_state::stored* memory_state::find(std::string_view claim_key) const {
  const auto it = record_of_.find(claim_key);
  return it == record_of_.end() ? nullptr : &records_[model::index_in(*it)];
}

const memory_state::patient* memory_state::find_patient(std::string_view key) const {
  const auto it = patient_of_.find(key);
  return it == patient_of_.end() ? nullptr : &patients_[model::index_in(*it)];
}

std::uint32_t memory_state::patient_index(const std::string& key) {
  if (const auto it = patient_of_.find(std::string_view(key)); it != patient_of_.end()) {
    return model::index_in(*it);
  }
  const auto index = static_cast<std::uint32_t>(patients_.size());
  patients_.push_back({key, no_record, no_record, 0});
  patient_of_.insert(model::keyed_entry(index, key));
  return index;
}

void memory_state::link(std::uint32_t record, std::uint32_t to) {
  auto& p = patients_[to];
  records_[record].next_of_patient = no_record;
  if (p.last == no_record) {
    p.first = record;
  } else {
    records_[p.last].next_of_patient = record;
  }
  p.last = record;
}

void memory_state::unlink(std::uint32_t record, std::uint32_t from) {
  auto& p = patients_[from];
  std::uint32_t before = no_record;
  for (auto at = p.first; at != no_record; before = at, at = records_[at].next_of_patient) {
    if (at != record) continue;
    const auto after = records_[at].next_of_patient;
    (before == no_record ? p.first : records_[before].next_of_patient) = after;
    if (p.last == record) p.last = before;
    records_[at].next_of_patient = no_record;
    return;
  }
}

std::uint32_t memory_state::intern(std::deque<std::string>& texts, index_of<std::string>& index,
                                   std::string_view text) {
  if (const auto it = index.find(text); it != index.end()) return model::index_in(*it);
  const auto at = static_cast<std::uint32_t>(texts.size());
  texts.emplace_back(text);
  index.insert(model::keyed_entry(at, text));
  return at;
}

std::uint32_t memory_state::set_part_of(const engine::claim_record_view& record) {
  if (const auto encoded = record.encoded.set_part; !encoded.empty()) {
    // Encoded on a reader's thread, which encodes a set part once for the claims that share
    // it: one compare of bytes with the part saved last instead of the fields'.
    if (set_parts_.empty() || set_parts_[last_set_part_] != encoded) {
      last_set_part_ = intern(set_parts_, set_part_of_, encoded);
      has_last_set_ = false;  // last_set_'s fields are another part's now
    }
    return last_set_part_;
  }
  const auto& c = record.claim;
  if (has_last_set_ && model::same_set_part(c, last_set_)) return last_set_part_;
  encoding_.clear();
  model::encode_set_part(c, encoding_);
  last_set_part_ = intern(set_parts_, set_part_of_, encoding_);
  last_set_.billing = c.billing;  // what same_set_part compares, nothing else
  last_set_.envelope = c.envelope;
  has_last_set_ = true;
  return last_set_part_;
}

std::uint32_t memory_state::source_head_index(std::string_view head) {
  if (last_source_ == no_record || sources_[last_source_] != head) {
    last_source_ = intern(sources_, source_of_, head);
  }
  return last_source_;
}

std::optional<engine::claim_record> memory_state::load(std::string_view claim_key) const {
  const auto* s = find(claim_key);
  if (s == nullptr) return std::nullopt;
  auto claim = model::decode_claim(s->claim(), set_parts_[s->set_part]);
  auto decision = model::decode_in_process_decision(s->decision());
  // Only encode() wrote these bytes: failing to read them back is a bug, not bad input.
  if (!claim || !decision) throw std::logic_error("memory_state: a stored record does not decode");
  auto source = sources_[s->source_head];
  source += s->source_tail();
  return engine::claim_record{std::move(*claim), std::move(*decision), std::move(source),
                              s->closed,         s->csii_released,     s->events};
}

void memory_state::save(const engine::claim_record_view& record) {
  claim_key_.clear();
  model::append_claim_key(claim_key_, record.claim);
  const auto& key = record.claim.subscriber.member_id;
  // The claim's envelope and billing provider are its whole set's: kept once for all of them.
  // Encoded in a buffer that keeps its capacity, then copied once at its exact size: growing
  // each record's own string from empty cost a reallocation per doubling and a shrink.
  const auto set_part = set_part_of(record);
  encoding_.assign(claim_key_);
  if (record.encoded.own_part.empty()) {
    model::encode_own_part(record.claim, encoding_);
  } else {
    encoding_ += record.encoded.own_part;  // encoded on a reader's thread (keeps_encoded_claims)
  }
  const auto claim_size = encoding_.size() - claim_key_.size();
  model::encode_in_process(record.decision, encoding_);
  const auto decision_size = encoding_.size() - claim_key_.size() - claim_size;
  const auto head_size = record.source.find(':') + 1;  // 0 without a ':' (npos + 1)
  const auto source_head = source_head_index(record.source.substr(0, head_size));
  const auto source_tail = record.source.substr(head_size);
  encoding_ += source_tail;
  auto bytes = std::make_unique_for_overwrite<char[]>(encoding_.size());
  std::memcpy(bytes.get(), encoding_.data(), encoding_.size());

  auto found = record_of_.find(std::string_view(claim_key_));
  const bool is_new = found == record_of_.end();
  const auto index = is_new ? static_cast<std::uint32_t>(records_.size()) : model::index_in(*found);
  if (is_new) records_.emplace_back();
  auto& s = records_[index];
  s.bytes = std::move(bytes);
  s.id_size = static_cast<std::uint32_t>(claim_key_.size());
  s.claim_size = static_cast<std::uint32_t>(claim_size);
  s.decision_size = static_cast<std::uint32_t>(decision_size);
  s.source_size = static_cast<std::uint32_t>(source_tail.size());
  s.source_head = source_head;
  s.set_part = set_part;  // with the bytes it completes, not before
  if (is_new) {
    record_of_.insert(model::keyed_entry(index, claim_key_));
    s.patient = patient_index(key);
    link(index, s.patient);
  } else if (patients_[s.patient].key != key) {
    // A replacement may name another member id: the claim moves to that patient's list.
    unlink(index, s.patient);
    if (s.csii_released) --patients_[s.patient].csii_released;
    s.csii_released = false;
    s.patient = patient_index(key);
    link(index, s.patient);
  }
  if (record.csii_released != s.csii_released) {
    auto& count = patients_[s.patient].csii_released;
    count = record.csii_released ? count + 1 : count - 1;
  }
  s.result = record.decision.result;
  s.closed = record.closed;
  s.csii_released = record.csii_released;
  s.events = record.events;
}

std::vector<engine::claim_summary> memory_state::claims_of(std::string_view key) const {
  std::vector<engine::claim_summary> out;
  const auto* p = find_patient(key);
  if (p == nullptr) return out;
  for (auto at = p->first; at != no_record; at = records_[at].next_of_patient) {
    const auto& s = records_[at];
    out.push_back({std::string(s.id()), s.result, s.closed, s.csii_released});
  }
  return out;
}

std::vector<engine::claim_summary> memory_state::open_claims_of(std::string_view key,
                                                                bool released_too) const {
  std::vector<engine::claim_summary> out;
  const auto* p = find_patient(key);
  if (p == nullptr) return out;
  for (auto at = p->first; at != no_record; at = records_[at].next_of_patient) {
    const auto& s = records_[at];
    if (s.closed) continue;
    if (s.result == model::outcome::hold_documentation ||
        (released_too && s.result == model::outcome::release)) {
      out.push_back({std::string(s.id()), s.result, s.closed, s.csii_released});
    }
  }
  return out;
}

bool memory_state::csii_released_other_than(std::string_view key,
                                            std::string_view claim_key) const {
  const auto* p = find_patient(key);
  if (p == nullptr || p->csii_released == 0) return false;
  const auto* self = find(claim_key);
  const bool counted_self =
      self != nullptr && self->csii_released && &patients_[self->patient] == p;
  return p->csii_released > (counted_self ? 1u : 0u);
}

void memory_state::for_each_open_decision(
    const std::function<void(const model::decision&)>& visit) const {
  for (const auto& s : records_) {
    if (s.closed) continue;
    if (auto d = model::decode_in_process_decision(s.decision())) visit(*d);
  }
}

void memory_state::record_history(std::string_view claim_key, const engine::history_entry& entry) {
  if (!keep_history_) return;
  auto it = history_.find(claim_key);
  if (it == history_.end()) it = history_.emplace(std::string(claim_key), 0).first;
  it->second.push_back(entry);
}

std::vector<engine::history_entry> memory_state::history(std::string_view claim_key) const {
  const auto it = history_.find(claim_key);
  return it == history_.end() ? std::vector<engine::history_entry>{} : it->second;
}

std::optional<engine::interchange_answer> memory_state::interchange(
    std::string_view sender_control) const {
  const auto it = interchanges_.find(sender_control);
  if (it == interchanges_.end()) return std::nullopt;
  return it->second;
}

void memory_state::remember_interchange(std::string_view sender_control, std::int64_t,
                                        engine::interchange_answer answer) {
  interchanges_.insert_or_assign(std::string(sender_control), std::move(answer));
}

std::int64_t memory_state::counter(std::string_view name, std::int64_t fallback) const {
  const auto it = counters_.find(name);
  return it == counters_.end() ? fallback : it->second;
}

void memory_state::set_counter(std::string_view name, std::int64_t value) {
  counters_.insert_or_assign(std::string(name), value);
}

}  // namespace covgate::store
