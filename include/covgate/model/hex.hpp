// Bytes as lower-case hex and back: how a cursor or a message between cluster members carries
// any text (a claim id, a name) through a URL or a line-based form unchanged.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace covgate::model {

[[nodiscard]] std::string hex(std::string_view bytes);
/// The bytes of lower-case hex; nullopt for an odd length or any other character.
[[nodiscard]] std::optional<std::string> unhex(std::string_view text);

}  // namespace covgate::model
