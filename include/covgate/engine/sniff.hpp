// What an input is, from its first bytes: the one sniff every host uses.
#pragma once

#include <cstdint>
#include <string_view>

namespace covgate::engine {

enum class payload_kind : std::uint8_t {
  x12,      ///< "ISA" (or "GS*"/"ST*": an interchange without its ISA, refused by a TA1)
  fhir,     ///< '{' (JSON or NDJSON) or '<' (XML)
  hl7v2,    ///< "MSH", "FHS" or "BHS"
  mllp,     ///< a recording of MLLP frames (0x0B first): each frame is a message of its own
  unknown,  ///< anything else (an empty input included)
};

/// The kind of an input from its first bytes, after a UTF-8 BOM and blanks (space, tab, CR,
/// LF). A few bytes are enough; fewer than three can only be unknown.
[[nodiscard]] payload_kind sniff(std::string_view head) noexcept;

/// Whether `head` is enough for sniff() to decide: three bytes after any BOM and blanks. A
/// reader of a stream waits for that much (or the end) before it sniffs.
[[nodiscard]] bool enough_to_sniff(std::string_view head) noexcept;

/// "x12", "fhir", "hl7v2", "mllp", "unknown".
[[nodiscard]] std::string_view name(payload_kind k) noexcept;

/// The media type of an answer in the standard of `k`: "application/edi-x12",
/// "application/fhir+json" (OperationOutcomes are JSON), "x-application/hl7-v2+er7";
/// "text/plain" for anything else. A literal: a view of it never dangles.
[[nodiscard]] std::string_view answer_media_type(payload_kind k) noexcept;

}  // namespace covgate::engine
