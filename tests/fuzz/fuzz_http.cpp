// Fuzz target: any bytes as an HTTP request (Beast's parser, with the server's limits) into
// the router, against one in-memory service. Invariants: every response has a status from
// 100 to 599, header values that cannot end a header (no CR, LF or NUL), and a JSON body that
// parses as JSON and is valid UTF-8.
#include <rapidjson/document.h>

#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "covgate/mapping/tables.hpp"
#include "covgate/model/boundary.hpp"
#include "covgate/policy/policy.hpp"
#include "covgate/server/http_api.hpp"

namespace http = boost::beast::http;
using namespace covgate;

namespace {

struct fixture {
  mapping::tables tables = mapping::tables::parse(mapping::embedded_sources());
  policy::policy_file policy = policy::policy_file::parse(policy::embedded_ncd223());
  server::service svc{[] {
                        server::server_config c;
                        c.store.directory = ":memory:";
                        c.store.journal_max_bytes = 1u << 20;  // bounded over a long run
                        c.http.max_bundle_entries = 64;
                        return c;
                      }(),
                      policy, tables};
};

fixture& shared() {
  static fixture f;
  return f;
}

void check(const server::http_response& r) {
  if (r.status < 100 || r.status > 599) std::abort();
  for (const auto& [name, value] : r.headers) {
    const auto safe = boundary::header_value(value);
    // What the server sends is the encoded value; the router must not hand it a header name
    // of its own making with a line break either.
    if (!safe || safe->find_first_of("\r\n") != std::string::npos) std::abort();
    if (name.find_first_of("\r\n:") != std::string::npos) std::abort();
  }
  if (r.content_type.find("json") != std::string::npos) {
    if (!boundary::valid_utf8(r.body)) std::abort();
    rapidjson::Document d;
    d.Parse<rapidjson::kParseIterativeFlag>(r.body.data(), r.body.size());
    if (d.HasParseError()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto& f = shared();
  // The first byte chooses whether bearer tokens are configured.
  static const std::vector<server::bearer_token> none;
  static const std::vector<server::bearer_token> tokens{{"fuzz", "t0ken"}};
  const auto& allowed = (data[0] & 1) ? tokens : none;
  http::request_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data + 1, size - 1), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;
  auto req = parser.release();
  server::http_request r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  r.content_type = std::string(req[http::field::content_type]);
  r.authorization = std::string(req[http::field::authorization]);
  r.body = std::move(req.body());
  r.peer = "127.0.0.1";
  check(server::route(f.svc, r, allowed));
  return 0;
}
