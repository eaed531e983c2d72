#include "covgate/store/later_answer.hpp"

#include <algorithm>

namespace covgate::store {

std::string pack_later(std::string_view event, std::string_view decision, std::string_view body) {
  std::string out;
  out.reserve(event.size() + decision.size() + body.size() + 2);
  out.append(event).append(1, '\n').append(decision).append(1, '\n').append(body);
  return out;
}

std::optional<later_answer> unpack_later(std::string_view row) noexcept {
  const auto first = row.find('\n');
  if (first == std::string_view::npos || first == 0) return std::nullopt;
  const auto event = row.substr(0, first);
  // An event's name is lower-case letters: a 277's first line ("ISA*…") never is.
  if (!std::all_of(event.begin(), event.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
    return std::nullopt;
  }
  const auto second = row.find('\n', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  return later_answer{event, row.substr(first + 1, second - first - 1), row.substr(second + 1)};
}

}  // namespace covgate::store
