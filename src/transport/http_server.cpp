#include "covgate/transport/servers.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>

#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <random>
#include <type_traits>

#include "covgate/model/boundary.hpp"
#include "covgate/server/http_api.hpp"
#include "covgate/server/log.hpp"
#include "listener_support.hpp"

namespace covgate::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using detail::drainable;
using detail::endpoint_of;
using detail::session_set;
using detail::tls_context;

// The bearer tokens, replaced whole on SIGHUP while requests read them: each request takes
// the current set and keeps it alive for as long as it needs it.
class token_set {
 public:
  [[nodiscard]] std::shared_ptr<const std::vector<server::bearer_token>> get() const {
    std::lock_guard lock(mutex_);
    return tokens_;
  }
  void set(std::vector<server::bearer_token> tokens) {
    auto next = std::make_shared<const std::vector<server::bearer_token>>(std::move(tokens));
    std::lock_guard lock(mutex_);
    tokens_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<server::bearer_token>> tokens_ =
      std::make_shared<const std::vector<server::bearer_token>>();
};

// A request id a client sent (X-Request-Id) is echoed when it is a plain token of at most
// 128 characters; anything else is replaced by one of ours, so a log line or header never
// carries what a sender wrote beyond that.
bool usable_request_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '=';
  });
}

std::string new_request_id() {
  // A random prefix per process and a counter: unique across restarts, cheap per request.
  static const std::string prefix = [] {
    std::random_device random;
    char text[9];
    std::snprintf(text, sizeof text, "%08x", random());
    return std::string(text);
  }();
  static std::atomic<std::uint64_t> next{0};
  return prefix + "-" + std::to_string(++next);
}

// One request from its headers to its response: its id, what it asked for, and the line
// that says what became of it (and the counter it adds to).
struct request_record {
  std::string id;
  std::string method;
  std::string route;
  std::size_t bytes_in = 0;
  std::chrono::steady_clock::time_point start_time{};

  [[nodiscard]] bool begun() const { return !id.empty(); }
  void reset() { *this = {}; }
  void begin(std::string_view sent_id, std::string_view sent_method, std::string_view target) {
    id = usable_request_id(sent_id) ? std::string(sent_id) : new_request_id();
    // The method as a known word (a client may send any token); the route as a template.
    constexpr std::string_view methods[] = {"GET",  "POST",    "PUT",  "DELETE",
                                            "HEAD", "OPTIONS", "PATCH"};
    method = std::find(std::begin(methods), std::end(methods), sent_method) != std::end(methods)
                 ? std::string(sent_method)
                 : std::string(sent_method.empty() ? "-" : "other");
    route = target.empty() ? "other" : server::route_label(target.substr(0, target.find('?')));
    start_time = std::chrono::steady_clock::now();
  }
  void finish(server::service& svc, const std::string& connection, const std::string& peer,
              const server::http_response& r) {
    svc.counters().http_request(route, method, r.status);
    const auto level = r.status >= 500 ? server::log_level::error
                       : r.status == 400 || r.status == 401 || r.status == 413 || r.status == 415 ||
                               r.status == 431
                           ? server::log_level::warn
                           : server::log_level::info;
    auto& log = server::log();
    if (!log.enabled(level)) return;
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_time)
            .count();
    const auto message =
        r.note.journal_id > 0 ? "http:" + std::to_string(r.note.journal_id) : std::string();
    const auto rounded = static_cast<double>(static_cast<std::int64_t>(ms * 1000)) / 1000;
    // Every request line says who asked what and how it went; what the router noted about the
    // message (or a reviewer's action, by the claim's hash only) is added when there is any.
    std::vector<server::log_field> fields{
        {"request_id", id}, {"connection", connection}, {"peer", peer}, {"method", method},
        {"route", route},   {"status", r.status},       {"ms", rounded}};
    const bool noted = !message.empty() || !r.note.outcome.empty();
    if (noted && !r.note.claim.empty()) {
      fields.insert(fields.end(), {{"outcome", r.note.outcome}, {"claim", r.note.claim}});
    } else {
      fields.insert(fields.end(), {{"bytes_in", bytes_in}, {"bytes_out", r.body.size()}});
      if (noted) {
        fields.insert(fields.end(), {{"message", message},
                                     {"outcome", r.note.outcome},
                                     {"claims", r.note.claims},
                                     {"facts", r.note.facts}});
      }
    }
    log.write(level, "http", "request", fields);
  }
};

// One HTTP connection over `Stream`: beast::tcp_stream, or beast::ssl_stream of one.
template <class Stream>
class http_session final : public drainable,
                           public std::enable_shared_from_this<http_session<Stream>> {
  static constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... TlsContext>
  http_session(tcp::socket socket, server::service& svc, token_set& tokens,
               session_set<drainable>& sessions, std::atomic<std::size_t>& buffered,
               TlsContext&... tls_context)
      : stream_(std::move(socket), tls_context...),
        svc_(svc),
        tokens_(tokens),
        sessions_(sessions),
        buffered_(buffered),
        connection_(detail::next_connection_id()) {
    boost::system::error_code ec;
    const auto remote = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    peer_ = ec ? "unknown" : remote.address().to_string();
    server::log().debug("http", "connection opened",
                        {{"connection", connection_}, {"peer", peer_}});
  }
  ~http_session() override {
    release_body_budget();
    if (registered_) sessions_.remove(self_);
    svc_.counters().connection_closed("http");
    server::log().debug("http", "connection closed", {{"connection", connection_}});
  }

  void start() {
    self_ = sessions_.add(this->shared_from_this());
    registered_ = true;
    if constexpr (tls) {
      beast::get_lowest_layer(stream_).expires_after(svc_.config().http.timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  self->svc_.counters().connection_refused("http", "tls-handshake");
                                  server::log().warn("http", "connection refused",
                                                     {{"connection", self->connection_},
                                                      {"peer", self->peer_},
                                                      {"reason", "tls-handshake"},
                                                      {"error", ec.message()}});
                                  return self->close();
                                }
                                self->read();
                              });
    } else {
      read();
    }
  }

  void drain() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->draining_ = true;
      if (!self->busy_) self->close();
    });
  }

 private:
  void read() {
    if (draining_) return close();
    request_.reset();
    parser_.emplace();
    parser_->body_limit(svc_.config().http.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(svc_.config().http.header_limit));
    // One deadline for the whole request, headers and body: a slow sender gets no more.
    beast::get_lowest_layer(stream_).expires_after(svc_.config().http.timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  // Before a body is read: a request without a valid token is refused (its body never
  // occupies memory), and the body's bytes are taken from the server-wide budget.
  void on_header(beast::error_code ec) {
    if (ec) return on_read(ec);
    const auto& header = parser_->get();
    const unsigned version = header.version();
    request_.begin(header["X-Request-Id"], header.method_string(), header.target());
    if (server::needs_token(header.target()) &&
        !server::authorized(header[http::field::authorization], *tokens_.get())) {
      return respond(server::unauthorized(), false, version);  // the body is not read: close after
    }
    const auto& c = svc_.config().http;
    const auto length = parser_->content_length();
    const std::size_t body = length               ? static_cast<std::size_t>(*length)
                             : parser_->chunked() ? c.body_limit
                                                  : 0;
    request_.bytes_in = body;
    if (body > 0) {
      reserved_ = std::min(body, c.body_limit);
      if (buffered_.fetch_add(reserved_) + reserved_ > c.max_buffered_bytes) {
        release_body_budget();
        svc_.counters().connection_refused("http", "buffer-budget");
        return respond({503,
                        "application/json",
                        "{\"error\":\"server busy: too many request bytes in flight; retry\"}",
                        {{"Retry-After", "1"}}},
                       false, version);
      }
    }
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code rec, std::size_t) {
                       self->on_read(rec);
                     });
  }

  void release_body_budget() {
    buffered_ -= reserved_;
    reserved_ = 0;
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return close();
    if (!request_.begun()) {
      // Refused before its headers were whole (a Content-Length over the limit, 431, a
      // malformed request): what the parser kept of them.
      const auto& partial = parser_->get();
      request_.begin(partial["X-Request-Id"], partial.method_string(), partial.target());
    }
    // What the parser refused is answered where the connection still allows a response,
    // then closed: the rest of the stream cannot be framed any more.
    if (ec == http::error::body_limit) {
      return respond(
          {413, "application/json", "{\"error\":\"body larger than the configured limit\"}", {}},
          false, 11);
    }
    if (ec == http::error::header_limit) {
      return respond({431,
                      "application/json",
                      "{\"error\":\"request line and headers larger than the configured limit\"}",
                      {}},
                     false, 11);
    }
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::partial_message) {
      return respond({400, "application/json", "{\"error\":\"malformed HTTP request\"}", {}}, false,
                     11);
    }
    if (ec) return close();
    busy_ = true;
    auto req = parser_->release();
    server::http_request r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.content_type = std::string(req[http::field::content_type]);
    r.authorization = std::string(req[http::field::authorization]);
    r.body = std::move(req.body());
    r.peer = peer_;
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    request_.bytes_in = r.body.size();
    const auto tokens = tokens_.get();  // kept alive for the call (SIGHUP may replace them)
    server::route(
        svc_, std::move(r), *tokens,
        [self = this->shared_from_this(), keep_alive, version](server::http_response response) {
          asio::post(self->stream_.get_executor(),
                     [self, keep_alive, version, response = std::move(response)]() mutable {
                       self->busy_ = false;
                       self->respond(std::move(response), keep_alive && !self->draining_, version);
                     });
        });
  }

  void respond(server::http_response r, bool keep_alive, unsigned version) {
    release_body_budget();
    request_.finish(svc_, connection_, peer_, r);
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version);
    res->set(http::field::server, "covgate");
    res->set(http::field::content_type, r.content_type);
    res->set("X-Request-Id", request_.id);
    // Header names are ours; values may carry what a sender wrote: encoded at this boundary.
    for (const auto& [name, value] : r.headers) {
      if (auto safe = boundary::header_value(value)) res->set(name, *safe);
    }
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !res->keep_alive()) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    auto& socket = beast::get_lowest_layer(stream_).socket();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  server::service& svc_;
  token_set& tokens_;
  session_set<drainable>& sessions_;
  std::atomic<std::size_t>& buffered_;  // request bodies in flight across connections
  std::string connection_;              // "c17", in log lines
  request_record request_;              // the request being read or answered
  std::size_t reserved_ = 0;            // this connection's part of it
  std::list<std::weak_ptr<drainable>>::iterator self_;
  bool registered_ = false;
  std::string peer_;
  bool busy_ = false;
  bool draining_ = false;
};

struct http_server::impl {
  token_set tokens;
  std::shared_ptr<asio::ssl::context> tls;  // null: plain HTTP
  session_set<drainable> sessions;
  std::atomic<std::size_t> buffered{0};  // request body bytes in flight
  std::shared_ptr<detail::listener> listener;
};

http_server::http_server(asio::io_context& io, server::service& svc,
                         std::vector<server::bearer_token> tokens)
    : impl_(std::make_shared<impl>()) {
  impl_->tokens.set(std::move(tokens));
  const auto& c = svc.config().http;
  if (c.tls.enabled()) impl_->tls = tls_context(c.tls, "http", svc.config().source);
  impl_->listener = std::make_shared<detail::listener>(
      io, "http", endpoint_of(c.address, c.port, svc.config().source, "http"), c.allow,
      c.max_connections, svc.counters(), svc.config().source,
      [&svc, i = impl_.get()](tcp::socket socket) {
        if (i->tls) {
          std::make_shared<http_session<beast::ssl_stream<beast::tcp_stream>>>(
              std::move(socket), svc, i->tokens, i->sessions, i->buffered, *i->tls)
              ->start();
        } else {
          std::make_shared<http_session<beast::tcp_stream>>(std::move(socket), svc, i->tokens,
                                                            i->sessions, i->buffered)
              ->start();
        }
      });
  impl_->listener->accept();
}

http_server::~http_server() = default;

std::uint16_t http_server::port() const { return impl_->listener->port(); }

void http_server::set_tokens(std::vector<server::bearer_token> tokens) {
  impl_->tokens.set(std::move(tokens));
}

void http_server::drain() {
  impl_->listener->close();
  impl_->sessions.each([](drainable& s) { s.drain(); });
}

}  // namespace covgate::transport
