// Reads FHIR R4 resources (JSON, XML, NDJSON) into normalized facts: Observation (with
// components), Encounter, Patient, Practitioner, PractitionerRole, Condition, and the Bundles
// that carry them. Problems become OperationOutcome issues with the FHIRPath of the element.
// Pure: text in, facts and issues out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/mapping/tables.hpp"
#include "covgate/model/facts.hpp"

namespace covgate::fhir {

enum class encoding : std::uint8_t { json, xml, ndjson };

/// OperationOutcome.issue.severity.
enum class severity : std::uint8_t { fatal, error, warning, information };

/// One OperationOutcome issue. Diagnostics name elements and codes, never patient values.
struct issue {
  severity level = severity::error;
  std::string code;  ///< OperationOutcome issue type: structure, required, value…
  std::string diagnostics;
  std::string expression;  ///< FHIRPath of the offending element, e.g. Observation.status
};

struct read_limits {
  std::size_t max_bytes = 64u << 20;   ///< a larger message is refused (too-costly)
  std::size_t max_bundle_depth = 4;    ///< Bundles inside Bundles
  std::size_t max_resources = 200000;  ///< resources per message
};

struct read_result {
  std::vector<model::fact> facts;
  std::vector<issue> issues;
  std::uint32_t resources = 0;  ///< resources seen (Bundles included)
  std::uint32_t mapped = 0;     ///< resources that gave at least one fact
  std::uint32_t ignored = 0;    ///< valid resources the rules do not read (information)
  std::uint32_t invalid = 0;    ///< resources refused with an error issue
  bool rejected = false;        ///< the whole message was refused (unparseable, a
                                ///< transaction with an error, over a limit)
  [[nodiscard]] bool has_errors() const noexcept;
};

/// Reads one message. Never throws on input; every problem is an issue.
[[nodiscard]] read_result read(std::string_view text, encoding how, const mapping::tables& tables,
                               const read_limits& limits = {});

/// The answer to a message longer than `limits.max_bytes` (a caller that knows the size
/// beforehand, such as a file reader, answers without reading it).
[[nodiscard]] read_result too_large(const read_limits& limits = {});

/// Reads NDJSON lines (one resource per line; blank lines skipped), each one a message of its
/// own: `limits.max_bytes` applies per line, and a bad line refuses that line only. Issues
/// name their line as "line N: …", counting from `first_line`, so a caller streaming a large
/// file in chunks of whole lines keeps the file's numbering.
[[nodiscard]] read_result read_ndjson(std::string_view text, std::size_t first_line,
                                      const mapping::tables& tables,
                                      const read_limits& limits = {});

/// Guesses the encoding of a message: XML when it starts with '<', NDJSON when it holds more
/// than one JSON object on separate lines, JSON otherwise. Leading blanks and a BOM are skipped.
[[nodiscard]] encoding sniff(std::string_view text) noexcept;

/// The OperationOutcome (JSON) for `result`: its issues, or one "informational" issue when
/// there are none.
[[nodiscard]] std::string operation_outcome_json(const read_result& result);

[[nodiscard]] std::string_view name(severity s) noexcept;

}  // namespace covgate::fhir
