// A compact binary form of model::claim: what a store keeps of a claim it holds, so a million
// held or released claims cost their bytes, not their object graphs. Lengths are varints,
// strings are raw bytes; the first byte is the format version.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "covgate/model/claim.hpp"

namespace covgate::model {

/// Appends the encoding of `c` to `out`.
void encode(const claim& c, std::string& out);

/// Decodes what encode() wrote. Returns nullopt for anything else (a wrong version, a length
/// past the end, trailing bytes); never throws on malformed input.
[[nodiscard]] std::optional<claim> decode_claim(std::string_view bytes);

}  // namespace covgate::model
