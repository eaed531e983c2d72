#include "covgate/server/outbox_api.hpp"

#include <charconv>
#include <optional>

#include "covgate/model/boundary.hpp"
#include "covgate/model/json_writer.hpp"

namespace covgate::server {
namespace {

http_response answer(unsigned status, std::string body) {
  return {status, "application/json", std::move(body), {}, {}};
}

http_response problem(unsigned status, std::string_view message) {
  std::string body;
  model::json_writer(body).begin_object().key("error").value(message).end_object();
  return answer(status, std::move(body));
}

// The value of `name` in a query string, percent-decoded; nullopt when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  std::size_t start = 0;
  while (start <= query.size()) {
    const auto end = std::min(query.find('&', start), query.size());
    const auto pair = query.substr(start, end - start);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return boundary::percent_decode(pair.substr(eq + 1), true).value_or("");
    }
    start = end + 1;
  }
  return std::nullopt;
}

template <class Number>
bool parse_number(std::string_view text, Number& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && end == text.data() + text.size();
}

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
  w.key("last_error").value(e.last_error);
  w.end_object();
}

}  // namespace

void route_outbox(service& svc, std::string_view method, const std::vector<std::string>& parts,
                  std::string_view query, std::function<void(http_response)> done) {
  auto& gate = svc.gate();
  if (parts.size() == 1) {
    if (method != "GET") return done(problem(405, "GET only"));
    const auto state = query_value(query, "state").value_or("");
    if (!state.empty() && state != "pending" && state != "delivered" && state != "dead") {
      return done(problem(400, "state must be pending, delivered or dead"));
    }
    std::int64_t after = 0;
    if (const auto a = query_value(query, "after"); a && !parse_number(*a, after)) {
      return done(problem(400, "after must be an item id"));
    }
    std::size_t limit = 100;
    if (const auto l = query_value(query, "limit");
        l && (!parse_number(*l, limit) || limit == 0 || limit > 1000)) {
      return done(problem(400, "limit must be 1 to 1000"));
    }
    const auto entries = gate.outbox_entries(state, after, limit);
    const auto destinations = gate.destinations();
    std::string body;
    model::json_writer w(body);
    w.begin_object().key("items").begin_array();
    for (const auto& e : entries) write_entry(w, e, *destinations);
    w.end_array().key("next");
    if (entries.size() == limit) {
      w.value(entries.back().id);
    } else {
      w.null();
    }
    w.end_object();
    return done(answer(200, std::move(body)));
  }
  std::int64_t id = 0;
  if (!parse_number(parts[1], id)) return done(problem(404, "no such outbox item"));
  if (parts.size() == 2) {
    if (method != "GET") return done(problem(405, "GET only"));
    const auto entry = gate.outbox_entry(id);
    if (!entry) return done(problem(404, "no such outbox item"));
    std::string body;
    model::json_writer w(body);
    write_entry(w, *entry, *gate.destinations());
    return done(answer(200, std::move(body)));
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
      std::string body;
      model::json_writer w(body);
      write_entry(w, gate.outbox_entry(id).value_or(store::outbox_entry{}), *gate.destinations());
      auto response = answer(200, std::move(body));
      response.note.outcome = "retried";
      done(std::move(response));
    });
  }
  done(problem(404, "no such route"));
}

}  // namespace covgate::server
