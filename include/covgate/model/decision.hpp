// What the gate says about a claim: its outcome and every finding behind it. Writers turn a
// decision into a 277, JSON Lines or FHIR; tests assert on it directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/model/date.hpp"
#include "covgate/model/outcome.hpp"
#include "covgate/model/reason.hpp"

namespace covgate::model {

/// One reason a claim is held (or released with a reason). What the reason means (outcome,
/// STC codes, sentence) is its row in the reason table; the finding adds where and why.
struct finding {
  model::reason reason{};
  std::uint32_t line = 0;  ///< LX number of the service line; 0 for the claim
  std::string detail;      ///< what the rule adds to the message (implantable: missing)
  std::vector<std::string> facts_used;  ///< resource ids of the facts the rule read

  [[nodiscard]] const reason_info& info() const noexcept { return model::info(reason); }
  [[nodiscard]] std::string_view code() const noexcept { return info().code; }
  [[nodiscard]] outcome result() const noexcept { return info().result; }
  [[nodiscard]] std::string_view category() const noexcept { return info().category; }
  [[nodiscard]] std::string_view status() const noexcept { return info().status; }
  [[nodiscard]] std::string_view extra_status() const noexcept { return info().extra_status; }
  [[nodiscard]] std::string_view message() const noexcept { return info().message; }
  /// "P3:300" (the decision line's "stc" field).
  [[nodiscard]] std::string stc() const {
    std::string out(category());
    out += ':';
    out += status();
    return out;
  }
  /// The message with its detail.
  [[nodiscard]] std::string text() const {
    std::string out(message());
    if (!detail.empty()) out.append(" ").append(detail);
    return out;
  }
  friend bool operator==(const finding&, const finding&) = default;
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
