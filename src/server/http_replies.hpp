// What every HTTP route module of the server builds its answers from: JSON responses, the
// {"error": …} problem body, query parameters decoded once, whole numbers in a range. Internal
// to the server module (http_api.cpp, outbox_api.cpp).
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
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

/// 503 for a store error, 500 for anything else, and an `error` log line with its reason (no
/// request content): what a request whose handler threw is answered.
[[nodiscard]] http_response failed_request(const std::exception& e);

/// Runs `handle`, which answers through `done`; if it throws first, `done` gets
/// failed_request(). Handlers run on the I/O threads and, once a message or an action is
/// durable, on the committer's: an exception out of them would end the process.
template <typename Handle>
void answering_failures(const std::function<void(http_response)>& done, Handle&& handle) {
  try {
    handle();
  } catch (const std::exception& e) {
    done(failed_request(e));
  }
}

}  // namespace covgate::server::http_replies
