#include "covgate/mapping/json_config.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>

namespace covgate::mapping {

void config_failure(const std::string& file, const std::string& path, const std::string& problem) {
  throw config_error(file + ": " + (path.empty() ? "/" : path) + ": " + problem);
}

rapidjson::Document parse_json_config(std::string_view text, const std::string& file) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag |
          rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (d.HasParseError()) {
    // Line and column of the error, as an editor shows them.
    const auto at = std::min(d.GetErrorOffset(), text.size());
    const auto before = text.substr(0, at);
    const auto line = 1 + std::count(before.begin(), before.end(), '\n');
    const auto last_break = before.rfind('\n');
    const auto column = at - (last_break == std::string_view::npos ? 0 : last_break + 1) + 1;
    config_failure(file, "",
                   "not valid JSON at line " + std::to_string(line) + ", column " +
                       std::to_string(column) + ": " +
                       rapidjson::GetParseError_En(d.GetParseError()));
  }
  return d;
}

}  // namespace covgate::mapping
