// The bytes a state keeps for a decision: its findings by reason code (the reason table gives
// their outcome, STC and sentence again on the way back), so a stored decision is a few dozen
// bytes and can never disagree with the table. Same archive as the claim and fact codecs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "covgate/model/decision.hpp"

namespace covgate::model {

/// Appends the encoding of `d` to `out`.
void encode(const decision& d, std::string& out);
/// The same in format `version` (1: fixed-width scalars, as earlier builds stored it; 2: now).
void encode_as(const decision& d, int version, std::string& out);

/// Decodes what encode() wrote; nullopt for anything else, or for a reason code this build
/// does not know. Never throws on malformed input.
[[nodiscard]] std::optional<decision> decode_decision(std::string_view bytes);

/// The same fields with each reason by its enumerator (a byte, not its 20-30-byte code), for
/// bytes that never leave the process: a build that renumbers the reasons cannot read them,
/// and decode_decision() refuses them. The memory state keeps a decision per claim this way.
void encode_in_process(const decision& d, std::string& out);
/// Decodes what encode_in_process() wrote; nullopt for anything else.
[[nodiscard]] std::optional<decision> decode_in_process_decision(std::string_view bytes);

}  // namespace covgate::model
