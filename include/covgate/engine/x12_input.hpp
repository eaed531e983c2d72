// X12 837 input read the way the gate reads it: the one place that decides what was accepted.
// A set's claims are handed over as soon as its SE checks out with nothing in it refused (so
// an interchange of any size streams through), and an interchange's verdict comes when it
// ends: whether it needs an acknowledgment, whether everything in it was accepted, and how
// many claims were handed over before a group or interchange trailer refused what held them
// (their answers stand; the acknowledgment says the rest). `covgate check`, `parse` and the
// intake all read X12 through this class.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "covgate/x12/interchange_reader.hpp"

namespace covgate::engine {

struct interchange_verdict {
  bool acknowledge = false;   ///< a TA1 was asked for, or something was refused or noted
  bool all_accepted = false;  ///< every set of every group was accepted
  std::uint32_t answered_then_refused = 0;
};

class x12_input final : private x12::reader_sink {
 public:
  class handler {
   public:
    virtual ~handler() = default;
    /// The claims of an accepted set, in the set's order. The callee may move them out (the
    /// reader then builds the next set's claims anew), or leave them for the reader to reuse
    /// their buffers; the span is valid only during the call.
    virtual void accepted_set(std::span<model::claim> claims, const x12::set_result& set) = 0;
    virtual void interchange_end(const x12::interchange_result& result,
                                 const interchange_verdict& verdict) = 0;
  };

  x12_input(handler& receiver, x12::reader_options options);
  void put(std::string_view bytes) { reader_.put(bytes); }
  void finish() { reader_.finish(); }
  [[nodiscard]] std::uint64_t leading_bytes_skipped() const noexcept {
    return reader_.leading_bytes_skipped();
  }
  [[nodiscard]] std::uint32_t interchanges() const noexcept { return interchanges_; }
  /// Only inside handler::accepted_set: takes the set's claims away, buffers and all (the span
  /// it was given stays valid: it is the first claims of the vector returned), and reads the
  /// next set into `spare`'s slots (a vector taken before, given back).
  [[nodiscard]] std::vector<model::claim> exchange_claims(std::vector<model::claim> spare) {
    std::swap(spare, set_claims_);
    return spare;
  }

 private:
  void on_claim(const model::claim& claim) override;
  model::claim* claim_slot() override;
  void on_set_end(const x12::set_result& set) override;
  void on_interchange_end(const x12::interchange_result& result) override;

  handler& handler_;
  // The claims of the set being read are set_claims_[0, set_size_); the reader builds the
  // next one in set_claims_[set_size_] (claim_slot), and the slots past it keep their buffers
  // from earlier sets.
  std::vector<model::claim> set_claims_;
  std::size_t set_size_ = 0;
  std::vector<std::uint32_t> answered_in_group_;  // claims handed over, by group index
  std::uint32_t interchanges_ = 0;
  x12::interchange_reader reader_;  // last: it calls back into the members above
};

}  // namespace covgate::engine
