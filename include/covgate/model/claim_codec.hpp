// A compact binary form of model::claim: what a store keeps of a claim it holds, so a million
// held or released claims cost their bytes, not their object graphs. Lengths are varints,
// strings are raw bytes; the first byte is the format version.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "covgate/model/claim.hpp"

namespace covgate::model {

/// The format version encode() writes (2: names added; 3: the same fields, scalars compact).
/// decode_claim() reads it and every earlier one, so a store written by an earlier covgate
/// still loads.
inline constexpr int claim_format_version = 3;

/// Appends the encoding of `c` to `out`.
void encode(const claim& c, std::string& out);

/// Appends the encoding of `c` in the layout of format `version` (1..claim_format_version),
/// leaving out what that version lacks: what an earlier covgate wrote (tests of the upgrade
/// path use it).
void encode_as(const claim& c, int version, std::string& out);

/// Decodes what encode() or encode_as() wrote, fields an older version lacks left empty.
/// Returns nullopt for anything else (an unknown version, a length past the end, trailing
/// bytes); never throws on malformed input.
[[nodiscard]] std::optional<claim> decode_claim(std::string_view bytes);

/// A claim in two parts: what its whole transaction set shares with it (the interchange and
/// set envelope, the billing provider: about a third of its encoding) and the rest. A memory
/// state keeps the set's part once for all its claims. Each part is in the layout of
/// claim_format_version, and only decode_claim(own, set) reads them.
void encode_set_part(const claim& c, std::string& out);
void encode_own_part(const claim& c, std::string& out);
/// True when encode_set_part writes the same bytes for both claims (the fields it writes are
/// equal): a state or a reader reuses a set part by it instead of encoding it again.
[[nodiscard]] bool same_set_part(const claim& a, const claim& b) noexcept;

/// The claim whose parts these are; nullopt when either is not one (as decode_claim(bytes)).
[[nodiscard]] std::optional<claim> decode_claim(std::string_view own_part,
                                                std::string_view set_part);

}  // namespace covgate::model
