#include "covgate/engine/x12_input.hpp"

namespace covgate::engine {

x12_input::x12_input(handler& receiver, x12::reader_options options)
    : handler_(receiver), reader_(*this, std::move(options)) {}

model::claim* x12_input::claim_slot() {
  if (set_size_ == set_claims_.size()) set_claims_.emplace_back();
  return &set_claims_[set_size_];
}

void x12_input::on_claim(const model::claim& claim) {
  // The reader built it in claim_slot(): kept where it is. Another claim is copied in.
  if (set_size_ == set_claims_.size()) {
    set_claims_.push_back(claim);
  } else if (&claim != &set_claims_[set_size_]) {
    set_claims_[set_size_] = claim;
  }
  ++set_size_;
}

void x12_input::on_set_end(const x12::set_result& set) {
  if (!set.rejected && set_size_ > 0) {
    if (answered_in_group_.size() <= set.group_index)
      answered_in_group_.resize(set.group_index + 1);
    answered_in_group_[set.group_index] += static_cast<std::uint32_t>(set_size_);
    handler_.accepted_set(std::span(set_claims_).first(set_size_), set);
  }
  set_size_ = 0;
}

void x12_input::on_interchange_end(const x12::interchange_result& result) {
  ++interchanges_;
  interchange_verdict v;
  v.acknowledge = result.ack_requested || !result.errors.empty() || result.rejected;
  v.all_accepted = !result.rejected && result.any_accepted();
  for (std::size_t g = 0; g < result.groups.size(); ++g) {
    const auto& group = result.groups[g];
    if (group.rejected || group.ack_code() != 'A') v.acknowledge = true;
    if (group.rejected || group.accepted_sets() < group.sets.size()) v.all_accepted = false;
    if ((group.rejected || result.rejected) && g < answered_in_group_.size()) {
      v.answered_then_refused += answered_in_group_[g];
    }
  }
  answered_in_group_.clear();
  handler_.interchange_end(result, v);
}

}  // namespace covgate::engine
