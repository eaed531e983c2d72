// A claim's outcome (docs/policy.md §1). The enumerator order is the severity order.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace covgate::model {

enum class outcome : std::uint8_t {
  release,
  hold_documentation,
  hold_review,
  hold_not_covered,
  hold_invalid,
};

inline constexpr outcome outcomes[] = {outcome::release, outcome::hold_documentation,
                                       outcome::hold_review, outcome::hold_not_covered,
                                       outcome::hold_invalid};

/// "release", "hold:documentation", "hold:review", "hold:not-covered", "hold:invalid".
[[nodiscard]] std::string_view name(outcome o) noexcept;
/// The outcome called `text`, or nullopt.
[[nodiscard]] std::optional<outcome> outcome_named(std::string_view text) noexcept;

}  // namespace covgate::model
