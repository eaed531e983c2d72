// What the HTTP listener needs to log and count a request without patient data: the route a
// request took as a template ("/claims/{id}", never the claim id itself) and a note the router
// leaves on its response (the message's journal id, its outcome, counts).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace covgate::server {

/// What the request's log line says besides its method, route and status. Never sent.
struct http_log_note {
  std::int64_t journal_id = 0;  ///< the message's journal id ("http:<id>" in its claims' sources)
  /// accepted, rejected, partly-rejected, unrecognized, unavailable (messages); released,
  /// cancelled, not-reviewable, unknown-claim (reviews); retried (outbox)
  std::string outcome;
  std::uint32_t claims = 0;
  std::uint32_t facts = 0;
  std::string claim;  ///< a claim id's log_hash (reviews), never the id
};

/// The route `path` (no query) is served by, as a template with bounded values: "/x12",
/// "/fhir/{type}", "/fhir/{type}/{id}", "/claims/{id}/release", "/outbox/{id}/retry"…;
/// "/" for the root and "other" for a path no route serves (so a scanner cannot grow the
/// metrics without bound).
[[nodiscard]] std::string route_label(std::string_view path);

}  // namespace covgate::server
