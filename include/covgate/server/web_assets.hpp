// The worklist page's files (web/ in the repository), compiled into the binary by
// cmake/embed_web.cmake: covgate serves them itself and fetches nothing from anywhere.
#pragma once

#include <string_view>

namespace covgate::server {

struct web_asset {
  std::string_view content_type;
  std::string_view body;
};

/// The file served at `path` ("/" is the page, "/ui/<file>" its script, style and icon), or
/// nullptr.
[[nodiscard]] const web_asset* web_asset_at(std::string_view path) noexcept;

}  // namespace covgate::server
