#include <algorithm>
#include <array>
#include <vector>

#include "covgate/server/http_log.hpp"

namespace covgate::server {

std::string route_label(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  if (parts.empty()) return "/";
  constexpr std::array<std::string_view, 9> roots = {
      "x12", "hl7v2", "fhir", "claims", "outbox", "metrics", "healthz", "readyz", "audit"};
  const auto root = parts[0];
  if (std::find(roots.begin(), roots.end(), root) == roots.end() || parts.size() > 4) {
    return "other";
  }
  std::string label = "/" + std::string(root);
  if (root == "fhir") {
    if (parts.size() >= 2) label += parts[1] == "metadata" ? "/metadata" : "/{type}";
    if (parts.size() >= 3) label += "/{id}";
    return parts.size() > 3 ? "other" : label;
  }
  if (root == "claims" || root == "outbox") {
    if (parts.size() >= 2) label += "/{id}";
    if (parts.size() == 3) {
      const auto action = parts[2];
      if (action != "release" && action != "cancel" && action != "retry") return "other";
      label += "/" + std::string(action);
    }
    return parts.size() > 3 ? "other" : label;
  }
  if (root == "audit") {
    if (parts.size() > 2) return "other";
    if (parts.size() == 2) label += parts[1] == "csii" ? "/csii" : "/{report}";
    return label;
  }
  return parts.size() == 1 ? label : "other";
}

}  // namespace covgate::server
