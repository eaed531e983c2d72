// Reads 837P/837I interchanges end to end: envelope checks (ISA/IEA, GS/GE, ST/SE), the
// implementation guide's loop structure, and the mapping of each claim to model::claim.
// Claims stream out one at a time; acknowledgment findings accumulate per interchange.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/model/claim.hpp"
#include "covgate/x12/error.hpp"
#include "covgate/x12/segment.hpp"
#include "covgate/x12/segment_reader.hpp"

namespace covgate::x12 {

/// How control-count errors (SE01, GE01, IEA01) and a repeated ST02 are treated.
enum class count_policy : std::uint8_t {
  strict,  ///< the set, group or interchange is rejected (IK5/AK9 R, TA1 R)
  warn,    ///< accepted with the error noted (IK5/AK9 E, TA1 E)
};

/// Readings of the guides' rules that public sample files need. By default the reader follows
/// the guides (005010X222A1/X223A2) and rejects what they reject; each switch turns one kind
/// of defect into a noted finding (IK5/AK9 `E`, TA1 `E`) that does not reject, for defects
/// that leave what the claim says unambiguous. Combine with `|`.
enum class leniency : std::uint32_t {
  none = 0,
  /// "hl-chain": HL01 not counting 1, 2, 3 from the set's start, or HL02 naming no HL one
  /// level up (the walker places loops by HL03 and position, not by the chain).
  hl_chain = 1u << 0,
  /// "hi-split": an HI element that is not a composite (HI*BK*8901: the qualifier and the
  /// code in elements of their own); its code is not read.
  hi_split = 1u << 1,
  /// "clm05": CLM05-2 other than B (837P) / A (837I), or CLM05-3 missing; the policy sees
  /// whatever CLM05-1 and CLM05-3 say.
  clm05 = 1u << 2,
  /// "rd8-single-date": an RD8 period holding one date (CCYYMMDD), read as that day.
  rd8_single_date = 1u << 3,
  /// "segment-repeats": a segment sent more often than its maximum use; every repeat is
  /// read, the claim keeps the last value.
  segment_repeats = 1u << 4,
  /// "isa11-letter": a letter in ISA11 under 00501 (the 4010 meaning, 'U'), read as "no
  /// repetition separator".
  isa11_letter = 1u << 5,
  /// "counts": SE01, GE01 or IEA01 that miscount, or a repeated ST02 (the same as
  /// envelope_counts = warn).
  counts = 1u << 6,
};

[[nodiscard]] constexpr leniency operator|(leniency a, leniency b) noexcept {
  return static_cast<leniency>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
[[nodiscard]] constexpr bool has(leniency set, leniency one) noexcept {
  return (static_cast<std::uint32_t>(set) & static_cast<std::uint32_t>(one)) != 0;
}

/// Every switch with its name, in declaration order (for command lines and documentation).
struct leniency_name {
  leniency value;
  std::string_view name;
};
[[nodiscard]] std::span<const leniency_name> leniency_names() noexcept;

/// Parses a comma-separated list of switch names ("hl-chain,counts"); "all" names every
/// switch, "" none. nullopt when a name is unknown (`unknown` then holds it).
[[nodiscard]] std::optional<leniency> parse_leniency(std::string_view list,
                                                     std::string* unknown = nullptr);

struct reader_options {
  reader_limits limits{};
  std::uint32_t max_segments_per_set = 1'000'000;
  std::uint32_t max_claims_per_set = 5000;   ///< the 837 guides' own recommendation
  std::uint32_t max_findings_per_set = 100;  ///< IK3 loops kept per set; the rest are counted
  count_policy envelope_counts = count_policy::strict;
  /// Readings beyond the guides (see leniency); none by default.
  leniency lenient = leniency::none;
  /// Interchanges received before this reader existed (a server's earlier messages): called
  /// with "ISA05/ISA06/ISA13" (ISA06 trimmed) at each ISA; true rejects the interchange as a
  /// duplicate (TA1 025), as one seen earlier in the same stream is. Empty: the stream only.
  std::function<bool(std::string_view sender_control)> known_interchange;

  /// True when the envelope counts only note (envelope_counts = warn or leniency counts).
  [[nodiscard]] bool counts_noted() const noexcept {
    return envelope_counts == count_policy::warn || has(lenient, leniency::counts);
  }
};

/// An IK4: one element in error.
struct element_finding {
  std::uint8_t position = 0;    ///< element position in the segment (1-based)
  std::uint8_t component = 0;   ///< component position, 0 when the whole element
  std::uint16_t reference = 0;  ///< data element reference number, 0 when unknown
  error code{};
  bool rejects = true;  ///< false: noted only (IK5 E), the set is still accepted
};

/// An IK3 loop: one segment in error, with its element findings.
struct segment_finding {
  std::string segment_id;      ///< the segment at fault (for a missing one: the missing id)
  std::uint32_t position = 0;  ///< position in the set, ST = 1
  std::string loop;            ///< the loop as the guide names it, e.g. 2010AA (IK303: 2010)
  std::string claim_id;        ///< CLM01 of the claim it belongs to, for CTX
  error code{};
  std::vector<element_finding> elements;
  location where;
  bool rejects = true;  ///< false: noted only (IK5 E), the set is still accepted
};

/// The outcome of one transaction set (999 loop 2000: AK2..IK5).
struct set_result {
  std::string id;              ///< ST01
  std::string control;         ///< ST02
  std::string implementation;  ///< ST03, or GS08 when absent
  std::vector<error> errors;   ///< IK502.. set-level errors
  std::vector<segment_finding> segments;
  std::uint32_t findings_dropped = 0;
  std::uint32_t segment_count = 0;
  std::uint32_t claims = 0;
  std::uint32_t group_index = 0;  ///< which group of the interchange holds it (0-based)
  bool rejected = false;
  /// IK501: 'A', 'E' (accepted with errors noted) or 'R'.
  [[nodiscard]] char ack_code() const noexcept {
    return rejected ? 'R' : (errors.empty() && segments.empty() ? 'A' : 'E');
  }
};

/// The outcome of one functional group (999 AK1..AK9).
struct group_result {
  std::string functional_id;  ///< GS01
  std::string control;        ///< GS06
  std::string version;        ///< GS08
  std::string application_sender;
  std::string application_receiver;
  std::uint32_t declared_sets = 0;  ///< GE01 (0 when GE is missing)
  std::vector<error> errors;        ///< AK905.. group-level errors
  std::vector<set_result> sets;
  bool rejected = false;
  [[nodiscard]] std::uint32_t accepted_sets() const noexcept;
  /// AK901: 'A', 'E', 'P' (some sets rejected) or 'R'.
  [[nodiscard]] char ack_code() const noexcept;
};

/// The outcome of one interchange (TA1 and the 999s).
struct interchange_result {
  std::string sender_qualifier, sender_id;      ///< ISA05, ISA06 (as sent, padded)
  std::string receiver_qualifier, receiver_id;  ///< ISA07, ISA08
  std::string date, time;                       ///< ISA09, ISA10
  std::string control;                          ///< ISA13
  std::string version;                          ///< ISA12
  bool ack_requested = false;                   ///< ISA14 = 1
  char usage = 'P';                             ///< ISA15
  /// FNV-1a over the interchange's segments, ISA to IEA (line breaks and read sizes aside):
  /// the same interchange sent again has the same digest, another one reusing ISA13 not.
  std::uint64_t content_digest = 0;
  delimiters delims{};
  bool repetition_letter_ignored = false;  ///< ISA11 was a letter under 00501
  std::vector<error> errors;               ///< TA105 candidates, first is reported
  std::vector<group_result> groups;
  location where;
  bool rejected = false;
  /// TA104: 'A', 'E' or 'R'.
  [[nodiscard]] char ack_code() const noexcept {
    return rejected ? 'R' : (errors.empty() ? 'A' : 'E');
  }
  /// True when at least one set was accepted and nothing above it was rejected.
  [[nodiscard]] bool any_accepted() const noexcept;
  /// "ISA05/ISA06/ISA13" (ISA06 trimmed): what makes an interchange a duplicate.
  [[nodiscard]] std::string sender_control() const;
};

/// Receives what the reader produces. Callbacks run on the thread calling put()/finish().
class reader_sink {
 public:
  virtual ~reader_sink() = default;
  /// A complete claim (loop 2300 and its lines). Its set may still be rejected later:
  /// wait for on_set_end before committing. The reference is valid only during the call.
  virtual void on_claim(const model::claim& claim) = 0;
  /// Where the reader builds the next claim, asked when its loop 2300 begins: a sink that keeps
  /// claims returns one of its own (it must stay where it is until on_claim, which then receives
  /// that very claim), so keeping a claim needs no copy. The reader overwrites every field, so
  /// a claim kept from earlier lends its buffers. Null (the default): the reader's own claim.
  virtual model::claim* claim_slot() { return nullptr; }
  /// A transaction set ended (SE, or a trailer that closed it).
  virtual void on_set_end(const set_result& /*set*/) {}
  /// An interchange ended (IEA, a new ISA, or the end of input). `result` holds every finding.
  virtual void on_interchange_end(const interchange_result& result) = 0;
};

/// Push-style reader of 837 interchanges. Feed bytes with put(), end with finish().
/// Not thread-safe; one per input stream. Remembers (sender, ISA13) pairs across interchanges
/// to detect duplicates.
class interchange_reader {
 public:
  interchange_reader(reader_sink& sink, reader_options options = {});
  ~interchange_reader();
  interchange_reader(const interchange_reader&) = delete;
  interchange_reader& operator=(const interchange_reader&) = delete;

  void put(std::string_view bytes);
  void finish();

  /// Non-blank bytes skipped before the first ISA.
  [[nodiscard]] std::uint64_t leading_bytes_skipped() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace covgate::x12
