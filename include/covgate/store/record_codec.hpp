// The bytes a store keeps for a decision: its findings by reason code (the static reason table
// supplies category, status and message again on the way back), so a stored decision is a
// few dozen bytes and can never disagree with POLICY.md's table.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "covgate/model/decision.hpp"

namespace covgate::store {

/// Appends the encoding of `d` to `out`.
void encode(const model::decision& d, std::string& out);

/// Decodes what encode() wrote; nullopt for anything else, or for a reason code the table no
/// longer has. Never throws on malformed input.
[[nodiscard]] std::optional<model::decision> decode_decision(std::string_view bytes);

/// One event of a claim's history: where it came from and the decision (a marker byte, the
/// source as a length-prefixed string, then encode()'s bytes).
void encode_history(const model::decision& d, std::string_view source, std::string& out);

/// (source, decision) from encode_history()'s bytes; nullopt for anything else.
[[nodiscard]] std::optional<std::pair<std::string, model::decision>> decode_history(
    std::string_view bytes);

}  // namespace covgate::store
