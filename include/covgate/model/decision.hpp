// What the gate says about a claim: its outcome and every finding behind it. Writers turn a
// decision into a 277, JSON Lines or FHIR; tests assert on it directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/model/date.hpp"

namespace covgate::model {

/// POLICY.md §1, most severe last. The order is the severity order.
enum class outcome : std::uint8_t {
  release,
  hold_documentation,
  hold_review,
  hold_not_covered,
  hold_invalid,
};

/// "release", "hold:documentation", "hold:review", "hold:not-covered", "hold:invalid".
[[nodiscard]] std::string_view name(outcome o) noexcept;

/// One reason a claim is held (or released with a reason). The text fields view the static
/// reason table (policy::reasons()), so a finding costs no string copies.
struct finding {
  std::string_view reason;  ///< POLICY.md reason code, e.g. csii.c-peptide.not-fasting
  outcome result = outcome::hold_documentation;
  std::uint32_t line = 0;         ///< LX number of the service line; 0 for the claim
  std::string_view category;      ///< STC01-1, e.g. P3
  std::string_view status;        ///< STC01-2, e.g. 300
  std::string_view extra_status;  ///< a second status code (e.g. 453 with A6:21), or ""
  std::string_view message;       ///< plain English for a biller; no patient values
  std::string detail;             ///< what the rule adds to the message (implantable: missing)
  std::vector<std::string> facts_used;  ///< resource ids of the facts the rule read

  /// "P3:300" (the DESIGN.md "stc" field).
  [[nodiscard]] std::string stc() const {
    std::string out(category);
    out += ':';
    out += status;
    return out;
  }
  /// The message with its detail.
  [[nodiscard]] std::string text() const {
    std::string out(message);
    if (!detail.empty()) out.append(" ").append(detail);
    return out;
  }
};

struct decision {
  std::string claim_id;
  std::string patient;  ///< the patient key (member id)
  date dos;             ///< the date of service the policy version was chosen by
  std::string policy;   ///< "NCD223@2026-03-07" (+ "+overlay" when one applied)
  outcome result = outcome::release;
  std::vector<finding> findings;  ///< most severe first
};

}  // namespace covgate::model
