// The outbox for operators, over HTTP (called by server::route):
//   GET  /outbox?state=dead&after=ID&limit=N  items by id (state pending, delivered or dead;
//        any when left out; after an id; 100 by default, at most 1000), each with its
//        destination, attempts, when it is next due and the last error; "next" pages on.
//   POST /outbox/{id}/retry                   a dead item made pending again: due at once,
//        attempts counted from 0 (200 with the item; 404 unknown; 409 delivered).
// Item bodies (277s) are not shown: they name patients.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/server/http_api.hpp"

namespace covgate::server {

/// Answers a request whose path segments (decoded) start with "outbox".
void route_outbox(service& svc, std::string_view method, const std::vector<std::string>& parts,
                  std::string_view query, std::function<void(http_response)> done);

}  // namespace covgate::server
