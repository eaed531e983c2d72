#include "covgate/model/decision.hpp"

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

}  // namespace covgate::model
