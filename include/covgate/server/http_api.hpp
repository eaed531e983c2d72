// The HTTP API as a function: request in, response out, no sockets (the Beast session in
// transport/http_server.cpp only moves bytes). Routes:
//   POST /x12                    an 837 interchange → 200 with the 277, 400 with the 999/TA1
//   POST /hl7v2                  HL7 v2 message(s) (ER7) → 200 with their ACK(s)
//   POST /fhir                   a transaction or batch Bundle → its response Bundle
//   POST /fhir/{type}            one resource → 201 Created + Location
//   PUT  /fhir/{type}/{id}       one resource with that id → 200
//   GET  /fhir/metadata          the CapabilityStatement (only what is implemented)
//   GET  /fhir/{type}/{id}       the facts covgate keeps of a resource (a decision cites it)
//   GET  /claims?queue=…&reason=…&patient=…&sort=…&limit=N&after=CURSOR   the worklist
//   GET  /claims/{id}            the claim, its reasons, evidence, timeline
//   POST /claims/{id}/release|cancel   a reviewer's action ({"reason": …})
//   POST /claims/release|cancel  the same for several claims ({"ids": […], "reason": …})
//   GET  /queues, /charts, /changes, /whoami, /messages/{journal id}
//   GET  /audit/csii?as_of=YYYY-MM-DD&format=json|csv|html   the documentation audit
//   GET  /outbox?state=dead&after=ID&limit=N   outbox items with their last error
//   POST /outbox/{id}/retry      a dead item made pending again
//   GET  /, /ui/*                the worklist page (no token: it asks for one)
//   GET  /healthz, GET /readyz, GET /metrics
// With tokens configured, every route but /healthz, /readyz and the page needs
// "Authorization: Bearer <token>"; the token's name is the reviewer's identity.
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
/// the probes, /healthz and /readyz, and the worklist page's own files, which hold no data).
[[nodiscard]] bool needs_token(std::string_view target);

/// The token `authorization` (the header's value) presents among `tokens` (RFC 6750 Bearer;
/// the scheme is case-insensitive), or nullptr. With no tokens configured, every request is
/// let in as one without a name. Compares every token in constant time.
[[nodiscard]] const bearer_token* authorized(std::string_view authorization,
                                             const std::vector<bearer_token>& tokens);

/// The answer to a request refused before its body was read (the server checks the token and
/// the body budget on the headers alone).
[[nodiscard]] http_response unauthorized();

/// Answers `request`; `done` runs once (now, or from the committer thread after the message's
/// group committed). `tokens` must outlive the call.
void route(service& svc, http_request request, const std::vector<bearer_token>& tokens,
           std::function<void(http_response)> done);

/// route() and wait (tests).
[[nodiscard]] http_response route(service& svc, const http_request& request,
                                  const std::vector<bearer_token>& tokens);

}  // namespace covgate::server
