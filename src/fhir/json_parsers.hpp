// Which parser reads FHIR JSON. read() parses with simdjson and gives what simdjson refuses to
// RapidJSON, which reads a few texts simdjson does not (reader.cpp read_json_document). The
// tests and the JSON fuzz target read the same text with RapidJSON alone and compare the two:
// the facts, issues and counts must not depend on the parser. Private to src/fhir and its tests.
#pragma once

#include <cstdint>
#include <string_view>

#include "covgate/fhir/reader.hpp"

namespace covgate::fhir {

enum class json_parser : std::uint8_t {
  simdjson_first,  ///< what read() does
  rapidjson_only,  ///< the reference the tests compare with
};

/// One JSON message (encoding::json) read with the parser chosen.
[[nodiscard]] read_result read_json(std::string_view text, json_parser parser,
                                    const mapping::tables& tables, const read_limits& limits = {});

/// NDJSON (encoding::ndjson) read with the parser chosen for every line.
[[nodiscard]] read_result read_ndjson(std::string_view text, json_parser parser,
                                      const mapping::tables& tables,
                                      const read_limits& limits = {});

}  // namespace covgate::fhir
