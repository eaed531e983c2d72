#include "covgate/model/outcome.hpp"

namespace covgate::model {

std::string_view name(outcome o) noexcept {
  switch (o) {
    case outcome::release:
      return "release";
    case outcome::hold_documentation:
      return "hold:documentation";
    case outcome::hold_review:
      return "hold:review";
    case outcome::hold_not_covered:
      return "hold:not-covered";
    case outcome::hold_invalid:
      return "hold:invalid";
  }
  return "hold:invalid";
}

std::optional<outcome> outcome_named(std::string_view text) noexcept {
  for (const auto o : outcomes) {
    if (name(o) == text) return o;
  }
  return std::nullopt;
}

}  // namespace covgate::model
