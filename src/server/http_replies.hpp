// What every HTTP route module of the server builds its answers from: JSON responses, the
// {"error": …} problem body, query parameters decoded once, whole numbers in a range. Internal
// to the server module (http_api.cpp, outbox_api.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "covgate/server/http_api.hpp"

namespace covgate::server::http_replies {

/// `body` (JSON) with `status`.
[[nodiscard]] http_response json(unsigned status, std::string body);

/// {"error": message} with `status`.
[[nodiscard]] http_response problem(unsigned status, std::string_view message);

/// The value of `name` in a query string, percent-decoded ('+' is a space); nullopt when the
/// parameter is absent, "" when present but empty or badly encoded (the caller refuses it).
[[nodiscard]] std::optional<std::string> query_value(std::string_view query, std::string_view name);

/// A whole number from `text` in [min, max]; nullopt otherwise.
[[nodiscard]] std::optional<std::int64_t> whole(std::string_view text, std::int64_t min,
                                                std::int64_t max);

}  // namespace covgate::server::http_replies
