#include "http_replies.hpp"

#include <algorithm>
#include <charconv>

#include "covgate/model/boundary.hpp"
#include "covgate/model/json_writer.hpp"

namespace covgate::server::http_replies {

http_response json(unsigned status, std::string body) {
  return {status, "application/json", std::move(body), {}};
}

http_response problem(unsigned status, std::string_view message) {
  std::string body;
  model::json_writer(body).begin_object().key("error").value(message).end_object();
  return json(status, std::move(body));
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
