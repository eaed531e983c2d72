// The HTTP API as a function: request in, response out, no sockets (the Beast session in
// transport/http_server.cpp only moves bytes). Routes:
//   POST /x12                    an 837 interchange → 200 with the 277, 400 with the 999/TA1
//   POST /hl7v2                  HL7 v2 message(s) (ER7) → 200 with their ACK(s)
//   POST /fhir                   a transaction or batch Bundle → its response Bundle
//   POST /fhir/{type}            one resource → 201 Created + Location
//   PUT  /fhir/{type}/{id}       one resource with that id → 200
//   GET  /fhir/metadata          the CapabilityStatement (only what is implemented)
//   GET  /claims?outcome=hold:documentation&after=ID&limit=N   the worklist
//   GET  /claims/{id}            current decision, findings, history
//   POST /claims/{id}/release|cancel   a reviewer's action ({"by": …, "reason": …})
//   GET  /outbox?state=dead&after=ID&limit=N   outbox items with their last error
//   POST /outbox/{id}/retry      a dead item made pending again
//   GET  /healthz, GET /readyz, GET /metrics
// With tokens configured, every route but /healthz and /readyz needs
// "Authorization: Bearer <token>".
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "covgate/server/http_log.hpp"
#include "covgate/server/service.hpp"

namespace covgate::server {

struct http_request {
  std::string method;  ///< GET, POST, PUT…
  std::string target;  ///< path and query, as sent
  std::string content_type;
  std::string authorization;
  std::string body;
  std::string peer;  ///< remote address
};

struct http_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  http_log_note note{};  ///< for the request's log line; never sent
};

/// Whether a request for `target` needs a bearer token when tokens are configured (all but
/// the probes, /healthz and /readyz).
[[nodiscard]] bool needs_token(std::string_view target);

/// Whether `authorization` (the header's value) presents one of `tokens` (RFC 6750 Bearer;
/// the scheme is case-insensitive). True when `tokens` is empty. Compares in constant time.
[[nodiscard]] bool authorized(std::string_view authorization,
                              const std::vector<std::string>& tokens);

/// The answer to a request refused before its body was read (the server checks the token and
/// the body budget on the headers alone).
[[nodiscard]] http_response unauthorized();

/// Answers `request`; `done` runs once (now, or from the committer thread after the message's
/// group committed). `tokens` must outlive the call.
void route(service& svc, http_request request, const std::vector<std::string>& tokens,
           std::function<void(http_response)> done);

/// route() and wait (tests).
[[nodiscard]] http_response route(service& svc, const http_request& request,
                                  const std::vector<std::string>& tokens);

}  // namespace covgate::server
