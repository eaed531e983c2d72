#include "covgate/server/outbox_api.hpp"

#include <cstdint>
#include <optional>

#include "covgate/model/boundary.hpp"
#include "covgate/model/json_writer.hpp"
#include "http_replies.hpp"

namespace covgate::server {
namespace {

using http_replies::answering_failures;
using http_replies::json;
using http_replies::problem;
using http_replies::query_value;
using http_replies::whole;

void write_entry(model::json_writer& w, const store::outbox_entry& e,
                 const std::vector<destination_config>& destinations) {
  w.begin_object();
  w.key("id").value(e.id).key("key").value(e.key).key("state").value(e.state);
  w.key("destination").value(static_cast<std::int64_t>(e.destination));
  // The destination's kind as configured now (items keep their position in the list).
  w.key("destination_kind")
      .value(e.destination < destinations.size() ? destinations[e.destination].kind
                                                 : std::string("(not configured)"));
  w.key("attempts").value(static_cast<std::int64_t>(e.attempts));
  if (e.state == "pending") w.key("next_attempt_ms").value(e.next_ms);
  // Retention counts from it (outbox.delivered_max_age_days); a cluster front's has none.
  if (e.state == "delivered" && e.next_ms > 0) w.key("delivered_ms").value(e.next_ms);
  w.key("last_error").value(e.last_error);
  w.end_object();
}

}  // namespace

void route_outbox(service& svc, std::string_view method, const std::vector<std::string>& parts,
                  std::string_view query, std::function<void(http_response)> done) {
  auto& gate = svc.outbox();
  if (parts.size() == 1) {
    if (method != "GET") return done(problem(405, "GET only"));
    const auto state = query_value(query, "state").value_or("");
    if (!state.empty() && state != "pending" && state != "delivered" && state != "dead") {
      return done(problem(400, "state must be pending, delivered or dead"));
    }
    std::int64_t after = 0;
    if (const auto a = query_value(query, "after")) {
      const auto n = whole(*a, 0, INT64_MAX);
      if (!n) return done(problem(400, "after must be an item id"));
      after = *n;
    }
    std::size_t limit = 100;
    if (const auto l = query_value(query, "limit")) {
      const auto n = whole(*l, 1, 1000);
      if (!n) return done(problem(400, "limit must be 1 to 1000"));
      limit = static_cast<std::size_t>(*n);
    }
    const auto entries = gate.outbox_entries(state, after, limit);
    const auto destinations = gate.destinations();
    std::string body;
    model::json_writer w(body);
    w.begin_object().key("items").begin_array();
    for (const auto& e : entries) write_entry(w, e, *destinations);
    w.end_array().key("next");
    if (entries.size() >= limit) {  // a front's page may hold a few more (one id, two places)
      w.value(entries.back().id);
    } else {
      w.null();
    }
    w.end_object();
    return done(json(200, std::move(body)));
  }
  const auto number = whole(parts[1], INT64_MIN, INT64_MAX);
  if (!number) return done(problem(404, "no such outbox item"));
  const auto id = *number;
  if (parts.size() == 2) {
    if (method != "GET") return done(problem(405, "GET only"));
    const auto entry = gate.outbox_entry(id);
    if (!entry) return done(problem(404, "no such outbox item"));
    std::string body;
    model::json_writer w(body);
    write_entry(w, *entry, *gate.destinations());
    return done(json(200, std::move(body)));
  }
  if (parts.size() == 3 && parts[2] == "retry") {
    if (method != "POST") return done(problem(405, "POST only"));
    return gate.retry(id, [&gate, id,
                           done = std::move(done)](std::optional<store::retry_result> result) {
      if (!result) return done(problem(503, "the store is unavailable"));
      switch (*result) {
        case store::retry_result::unknown:
          return done(problem(404, "no such outbox item"));
        case store::retry_result::delivered:
          return done(problem(409, "the item was delivered; there is nothing to retry"));
        case store::retry_result::retried:
          break;
      }
      answering_failures(done, [&] {  // on the committer's thread: the item is read again
        std::string body;
        model::json_writer w(body);
        write_entry(w, gate.outbox_entry(id).value_or(store::outbox_entry{}), *gate.destinations());
        auto response = json(200, std::move(body));
        response.note.outcome = "retried";
        done(std::move(response));
      });
    });
  }
  done(problem(404, "no such route"));
}

}  // namespace covgate::server
