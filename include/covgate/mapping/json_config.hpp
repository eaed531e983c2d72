// The one loader of covgate's own JSON files (the mapping tables, the policy and its
// overlays, covgate.json): JSON with comments and trailing commas, parsed without recursion,
// every problem a config_error naming the file, the JSON path and the problem.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "covgate/mapping/tables.hpp"

namespace covgate::mapping {

/// Parses `text`; throws config_error "<file>: /: not valid JSON at line L, column C: why".
[[nodiscard]] rapidjson::Document parse_json_config(std::string_view text, const std::string& file);

/// Throws config_error "<file>: <path>: <problem>" (path "" is the root, "/").
[[noreturn]] void config_failure(const std::string& file, const std::string& path,
                                 const std::string& problem);

}  // namespace covgate::mapping
