// Walks the segments of one 837 transaction set through the guide's loop schema: places each
// segment in its loop, records structural findings (IK3/IK4), and maps what it places into
// model::claim, handing each claim over when its loop 2300 ends.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "covgate/model/claim.hpp"
#include "covgate/x12/interchange_reader.hpp"
#include "schema_837.hpp"

namespace covgate::x12 {

class claim_walker {
 public:
  using claim_handler = std::function<void(const model::claim&)>;
  /// Where to build the next claim (reader_sink::claim_slot), or null for the walker's own.
  using slot_source = std::function<model::claim*()>;

  claim_walker(const reader_options& options, claim_handler on_claim, slot_source slots = {})
      : options_(options), on_claim_(std::move(on_claim)), slots_(std::move(slots)) {}

  /// Starts a set. ST has been checked by the caller; `result` collects findings until end().
  void begin(model::claim_kind kind, const model::envelope_ref& envelope, set_result& result);
  /// Places one segment (never ST or SE); `position` counts from ST = 1.
  void on_segment(const segment& seg, std::uint32_t position);
  /// Ends the set at SE (position of SE): closes every open loop and flushes the last claim.
  void end(std::uint32_t position);

 private:
  struct frame {
    // Left uninitialized: enter() sets what the loop uses (a frame per loop entered, and
    // zeroing all 64 counters showed in profiles).
    frame() noexcept {}  // NOLINT(modernize-use-equals-default): = default would zero them
    const schema::loop_def* def;
    std::uint16_t index;  // entry the last segment matched
    std::array<std::uint16_t, schema::max_loop_entries>
        counts;  // uses (segments) or repeats (loops) per entry, the first entries().size()
  };
  struct match {
    std::size_t depth = 0;  // frame that holds the entry
    std::size_t entry = 0;
  };

  bool find(const segment& seg, match& found) const;
  /// A later entry of the current loop that takes this segment id with a qualifier, or null.
  [[nodiscard]] const schema::entry* qualified_forward(const segment& seg) const;
  // Closes the loops above `depth`. Called for every segment, and most leave none: that test
  // stays inline, the closing is a call (as is the report below, whose loop most calls skip).
  void close_to(std::size_t depth, std::uint32_t position) {
    if (stack_.size() > depth + 1) close_loops_to(depth, position);
  }
  void close_loops_to(std::size_t depth, std::uint32_t position);
  /// Names the required entries in [from, to) of `f` that never came.
  void report_missing(const frame& f, std::size_t from, std::size_t to, std::uint32_t position) {
    const auto entries = f.def->entries;
    if ((from < entries.size() ? entries[from].next_required : to) < to) {
      report_missing_from(f, from, to, position);
    }
  }
  void report_missing_from(const frame& f, std::size_t from, std::size_t to,
                           std::uint32_t position);
  [[nodiscard]] static std::size_t run_of(const frame& f, std::size_t entry) noexcept {
    return f.def->entries[entry].group_first;
  }
  void push_frame(const schema::loop_def& def);
  void enter(const schema::loop_def& def);
  void leave(const frame& f);
  void finding(const segment& seg, std::uint32_t position, error code,
               std::vector<element_finding> elements = {});
  void finding(std::string_view id, std::uint32_t position, error code, location where,
               bool rejects = true, std::vector<element_finding> elements = {},
               std::string_view loop_name = {});
  void check_hierarchy(const segment& seg, std::uint32_t position);
  void map(schema::loop loop, const segment& seg);
  [[nodiscard]] schema::loop current_loop() const noexcept { return stack_.back().def->role; }
  [[nodiscard]] bool institutional() const noexcept {
    return kind_ == model::claim_kind::institutional;
  }
  [[nodiscard]] bool lenient(leniency one) const noexcept { return has(options_.lenient, one); }

  const reader_options& options_;
  claim_handler on_claim_;
  slot_source slots_;
  model::claim_kind kind_ = model::claim_kind::professional;
  set_result* result_ = nullptr;
  std::vector<frame> stack_;
  std::vector<element_finding> element_scratch_;
  std::vector<std::uint8_t> hl_levels_;  // HL01 - 1 -> level code (20, 22, 23)
  location last_where_{};

  // Mapping state: the claim being built (in a sink's slot or own_claim_) and the context it
  // inherits.
  model::claim own_claim_;
  model::claim* claim_ = &own_claim_;
  model::claim context_;  // billing, subscriber, payer, envelope: copied into each claim
  // context_.envelope changed since it was last copied into own_claim_ (sinks only read it, so
  // its envelope stays valid from one claim to the next).
  bool envelope_changed_ = true;
  bool in_claim_ = false;
  std::size_t lines_used_ = 0;  // claim_->lines[0, lines_used_) belong to the claim being built
};

}  // namespace covgate::x12
