// A compact binary form of facts: what the durable store keeps of each resource (FHIR, or the
// identity an HL7 v2 result or visit is given) it was sent, so a restart rebuilds the fact index
// from a few hundred bytes per resource instead of re-reading raw messages (which the journal may
// then prune). Same archive as claim_codec.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/model/facts.hpp"

namespace covgate::model {

/// Appends the encoding of `facts` (one resource's facts, or any list) to `out`.
void encode(std::span<const fact> facts, std::string& out);
/// The same in an earlier format version (1: fixed-width scalars), as a store written by an
/// earlier build holds it: for tests that such stores still read back.
void encode_as(std::span<const fact> facts, int version, std::string& out);
/// encode() of `facts` as if each fact's resource id lacked its first `id_prefix` bytes and
/// its patient key, lastUpdated and subject were empty, leaving the facts as they are: the
/// fact index's record of one resource, whose facts it stores without what they repeat.
void encode_stripped(std::span<const fact> facts, std::size_t id_prefix, std::string& out);

/// Decodes what encode() wrote. Returns nullopt for anything else (a wrong version or
/// alternative, a length past the end, trailing bytes); never throws on malformed input.
[[nodiscard]] std::optional<std::vector<fact>> decode_facts(std::string_view bytes);
/// The same, appending to `out`; false (and `out` as it was) for anything else.
[[nodiscard]] bool decode_facts(std::string_view bytes, std::vector<fact>& out);
/// The same into `into`, which must hold exactly count_facts(bytes) facts: each fact of
/// `into` whose kind matches is overwritten field by field, so its strings and lists keep
/// their memory (a caller decoding again and again allocates nothing once warmed up). False
/// for anything decode_facts() refuses, or a count other than into.size(); `into` is then
/// left in some valid but unspecified state.
[[nodiscard]] bool decode_facts_into(std::string_view bytes, std::span<fact> into);
/// How many facts decode_facts() would give, read from the header alone (0 for anything
/// that is not an encoding): so a caller decoding many lists reserves once.
[[nodiscard]] std::size_t count_facts(std::string_view bytes);

}  // namespace covgate::model
