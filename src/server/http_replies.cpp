#include "http_replies.hpp"

#include <algorithm>
#include <charconv>

#include "covgate/model/boundary.hpp"
#include "covgate/model/json_writer.hpp"
#include "covgate/server/log.hpp"
#include "covgate/store/sqlite_store.hpp"

namespace covgate::server::http_replies {

http_response json(unsigned status, std::string body) {
  return {status, "application/json", std::move(body), {}};
}

http_response problem(unsigned status, std::string_view message) {
  std::string body;
  model::json_writer(body).begin_object().key("error").value(message).end_object();
  return json(status, std::move(body));
}

http_response failed_request(const std::exception& e) {
  // A store error names SQLite's reason or the kind of row that did not decode, never a value.
  const bool store = dynamic_cast<const store::store_error*>(&e) != nullptr;
  log().error("http", store ? "the store could not be read for a request" : "a request failed",
              {{"reason", e.what()}});
  return store ? problem(503, "the store could not be read; the request may be repeated")
               : problem(500, "the request failed; the server's log says why");
}

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

std::optional<std::int64_t> whole(std::string_view text, std::int64_t min, std::int64_t max) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || n < min || n > max) {
    return std::nullopt;
  }
  return n;
}

}  // namespace covgate::server::http_replies
