// Writes the gate's answers as an X12 277, each profile in its own guide's structure
// (docs/policy.md §1):
// - notification_x212 (default): the 277 of 005010X212, where P (pended) categories are
//   legal. 2000A payer (20), 2000B receiver (21: the 837's submitter), 2000C provider (19: the
//   837's billing provider), 2000D subscriber (22) and, when the patient is not the
//   subscriber, 2000E dependent (23); per claim TRN*2 (CLM01), STC, REF*1K/BLT, DTP*472 in
//   2200D (2200E), and the service lines a reason concerns in 2220D (2220E).
// - acknowledgment_x214: strict 277CA (005010X214), A categories only. 2000A with TRN and
//   DTP*050/009 (2200A), 2000B with TRN, STC, QTY and AMT (2200B), 2000C likewise (2200C),
//   2000D patient (PT) with TRN, STC, REF, DTP (2200D) and service lines in 2220D (SVC, STC,
//   REF*FJ, DTP*472).
// Names and ids are the 837's own (NM1*41, NM1*85, NM1*IL/QC), so a receiver matches on name
// and id. STC12 is the reason's plain sentence and its code: "<sentence> [<code>]", shortened
// at a word boundary to 264 characters, the code always kept; one STC per reason, most
// important first. Note: the X212 guide marks STC12 Not Used; docs/policy.md asks for it in both
// profiles, so it is written unless status_settings::free_text is off.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "covgate/model/claim.hpp"
#include "covgate/model/decision.hpp"
#include "covgate/x12/segment.hpp"

namespace covgate::x12 {

enum class status_profile : std::uint8_t { notification_x212, acknowledgment_x214 };

/// One answer: a claim, what the gate decided, and how the answer came about.
struct status_entry {
  status_entry() = default;
  status_entry(const model::claim* claim_in, const model::decision* decision_in,
               std::string_view trace_in = {}, std::string_view event_in = {},
               std::string_view note_in = {})
      : claim(claim_in), decision(decision_in), trace(trace_in), event(event_in), note(note_in) {}

  const model::claim* claim = nullptr;  ///< both point at caller-owned values
  const model::decision* decision = nullptr;
  /// The answer's trace, "CLM01-sequence" (engine::event::trace()). A release carries it as
  /// its payer claim control number (REF*1K); other answers do not. "": none. Views
  /// caller-owned text.
  std::string_view trace;
  /// The gate's event kind: "hold", "release", "reopened", "repeat", "void" or "cancel"; ""
  /// when unknown (the decision alone decides). "cancel" is a reviewer's final answer: A3
  /// (returned) with the status code of the hold's first reason.
  std::string_view event;
  /// A reviewer's own words (why they released or cancelled the claim), written in STC12 of
  /// the reviewer's answer; "" when none. Views caller-owned text.
  std::string_view note;
};

struct status_settings {
  status_profile profile = status_profile::notification_x212;
  std::string sender_qualifier = "ZZ";  ///< ours (ISA05/06, GS02)
  std::string sender_id = "COVGATE";    ///< also the payer id of 2100A
  std::string sender_name = "COVGATE";  ///< the payer name of 2100A (NM103)
  std::string date = "20000101";        ///< CCYYMMDD of the message (time is an argument)
  std::string time = "0000";            ///< HHMM
  std::uint32_t control = 1;            ///< ISA13 / GS06
  /// ISA15: 'P' production or 'T' test. Echo the ISA15 of the interchange being answered, so
  /// a test claim gets a test answer.
  char usage = 'P';
  /// STC12 sentences in the X212 profile (docs/policy.md §1; the X212 guide marks STC12 Not Used,
  /// so a receiver that validates it strictly may want them off). The 277CA profile writes
  /// them where its guide allows (2200D) whatever this says.
  bool free_text = true;
  delimiters delims{'*', ':', '^', '~'};
  bool line_breaks = true;
};

/// The STC12 text of a reason: "<sentence> [<code>]", at most 264 characters. A longer
/// sentence is cut at a word boundary and ends in "..."; the code is always kept whole.
[[nodiscard]] std::string status_text(std::string_view sentence, std::string_view code);

/// The room write_277 makes ahead for an answer to `claims` claims, in bytes: enough for the
/// loops of most claims (about 1.2 KB each with their lines), grown if it is not.
[[nodiscard]] constexpr std::size_t status_277_room(std::size_t claims) noexcept {
  return 512 + 1280 * claims;
}

/// One interchange answering `entries` (all from one sender: the first claim's envelope names
/// the receiver and the 2000B submitter). Empty input gives "".
[[nodiscard]] std::string write_277(const std::vector<status_entry>& entries,
                                    const status_settings& settings);
/// The same written into `buffer` from byte `from` (its size if `from` is past it): what it
/// holds before is kept, the rest overwritten, and its size is kept as room for the next
/// answer. The answer is the view returned, valid until `buffer` changes. For a caller that
/// answers set after set, so that one buffer's memory serves them all, or that keeps answers
/// one after another (an interchange's, remembered for a repeat) without copying them.
[[nodiscard]] std::string_view write_277(const std::vector<status_entry>& entries,
                                         const status_settings& settings, std::string& buffer,
                                         std::size_t from = 0);

}  // namespace covgate::x12
