#include "covgate/transport/servers.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <chrono>
#include <fstream>
#include <list>
#include <type_traits>

#include "covgate/hl7v2/ack.hpp"
#include "covgate/transport/http_api.hpp"
#include "covgate/transport/mllp.hpp"

namespace covgate::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

tcp::endpoint endpoint_of(const std::string& address, std::uint16_t port) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) throw config_error("not an IP address: " + address);
  return {ip, port};
}

void listen(tcp::acceptor& acceptor, const tcp::endpoint& at, const char* what) {
  boost::system::error_code ec;
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw config_error(std::string("cannot listen for ") + what + " on " +
                       at.address().to_string() + ":" + std::to_string(at.port()) + ": " +
                       ec.message());
  }
}

// A registry of live sessions, so drain() can reach them. Sessions remove themselves.
template <class Session>
class session_set {
 public:
  typename std::list<std::weak_ptr<Session>>::iterator add(const std::shared_ptr<Session>& s) {
    std::lock_guard lock(mutex_);
    return sessions_.insert(sessions_.end(), s);
  }
  void remove(typename std::list<std::weak_ptr<Session>>::iterator it) {
    std::lock_guard lock(mutex_);
    sessions_.erase(it);
  }
  template <class F>
  void each(F&& f) {
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(mutex_);
      for (auto& w : sessions_) {
        if (auto s = w.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) f(*s);
  }

 private:
  std::mutex mutex_;
  std::list<std::weak_ptr<Session>> sessions_;
};

}  // namespace

// ---- TLS ------------------------------------------------------------------------------------

namespace {

// A server TLS context from PEM files: TLS 1.2 or later, no compression or renegotiation.
std::shared_ptr<asio::ssl::context> tls_context(const tls_config& tls, const char* listener) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::no_compression |
                   asio::ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(tls.certificate.string(), ec);
  if (!ec) ctx->use_private_key_file(tls.private_key.string(), asio::ssl::context::pem, ec);
  if (ec) {
    throw config_error(std::string(listener) + " TLS: cannot load " + tls.certificate.string() +
                       " / " + tls.private_key.string() + ": " + ec.message());
  }
  return ctx;
}

// What drain() needs from a session of any stream type.
struct drainable {
  virtual ~drainable() = default;
  virtual void drain() = 0;
};

}  // namespace

// ---- MLLP ------------------------------------------------------------------------------------

// One MLLP connection over `Stream`: tcp::socket, or asio::ssl::stream<tcp::socket> with TLS.
template <class Stream>
class mllp_session final : public drainable,
                           public std::enable_shared_from_this<mllp_session<Stream>> {
  static constexpr bool tls = !std::is_same_v<Stream, tcp::socket>;

 public:
  template <class... TlsContext>
  mllp_session(tcp::socket socket, service& svc, session_set<drainable>& sessions,
               TlsContext&... tls_context)
      : stream_(std::move(socket), tls_context...),
        timer_(stream_.get_executor()),
        svc_(svc),
        sessions_(sessions),
        decoder_({svc.config().mllp.max_frame_bytes, svc.config().mllp.require_final_cr}) {
    boost::system::error_code ec;
    const auto remote = lowest().remote_endpoint(ec);
    peer_ = ec ? "unknown" : remote.address().to_string();
  }
  ~mllp_session() override {
    if (registered_) sessions_.remove(self_);
    svc_.connection_closed("mllp");
  }

  void start() {
    self_ = sessions_.add(this->shared_from_this());
    registered_ = true;
    if constexpr (tls) {
      // The handshake gets the read timeout: a client that connects and says nothing is idle.
      timer_.expires_after(svc_.config().mllp.read_timeout);
      timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->close();
      });
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](boost::system::error_code ec) {
                                self->timer_.cancel();
                                if (ec) {
                                  self->svc_.connection_refused("mllp", "tls-handshake");
                                  return self->close();
                                }
                                self->read();
                              });
    } else {
      read();
    }
  }

  // Called from any thread: closes an idle connection now, a busy one after its answer.
  void drain() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->draining_ = true;
      if (!self->busy_ && !self->decoder_.inside_frame()) self->close();
    });
  }

 private:
  tcp::socket& lowest() { return beast::get_lowest_layer(stream_); }

  void read() {
    if (draining_) return close();
    const auto& c = svc_.config().mllp;
    timer_.expires_after(decoder_.inside_frame() ? c.read_timeout : c.idle_timeout);
    timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->close();  // idle too long, or stalled mid-frame
    });
    stream_.async_read_some(asio::buffer(buffer_), [self = this->shared_from_this()](
                                                       boost::system::error_code ec,
                                                       std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(boost::system::error_code ec, std::size_t n) {
    timer_.cancel();
    if (ec) return close();
    busy_ = true;
    frames_.clear();
    const auto error = decoder_.put(std::string_view(buffer_.data(), n),
                                    [&](std::string_view f) { frames_.emplace_back(f); });
    if (error != mllp_error::none) frame_error_ = error;
    replies_.assign(frames_.size(), {});
    waiting_ = frames_.size();
    if (waiting_ == 0) return answer();
    // Each frame is processed now and answered after its group commits; answers come back
    // on this connection's strand, in order.
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      svc_.submit(frames_[i], "mllp", peer_, [self = this->shared_from_this(), i](reply r) {
        asio::post(self->stream_.get_executor(), [self, i, r = std::move(r)]() mutable {
          self->replies_[i] = std::move(r);
          if (--self->waiting_ == 0) self->answer();
        });
      });
    }
  }

  // All frames of the last read are committed (or failed): write their answers.
  void answer() {
    const bool commit_acks = svc_.config().mllp.commit_acks;
    for (const auto& r : replies_) {
      if (!r.durable) {
        // Not stored, so not acknowledged: a release-2 peer gets a NAK, any peer a closed
        // connection, and resends.
        if (commit_acks) out_ += mllp_frame(std::string(1, mllp_commit_nak));
        closing_ = true;
        break;
      }
      if (commit_acks) out_ += mllp_frame(std::string(1, mllp_commit_ack));
      out_ += mllp_frame(r.body);
    }
    if (frame_error_ != mllp_error::none && !closing_) {
      hl7v2::hl7_ack_settings s;
      s.control_id = "CGFRAME";
      const auto text = std::string(describe(frame_error_)) + " (" +
                        std::to_string(svc_.config().mllp.max_frame_bytes) + " bytes)";
      out_ += mllp_frame(hl7v2::hl7_ack(nullptr, "AR", "100", text, s));
      closing_ = true;
    }
    busy_ = false;
    if (out_.empty()) return closing_ ? close() : read();
    asio::async_write(
        stream_, asio::buffer(out_),
        [self = this->shared_from_this()](boost::system::error_code wec, std::size_t) {
          self->out_.clear();
          if (wec || self->closing_) return self->close();
          self->read();
        });
  }

  void close() {
    timer_.cancel();
    boost::system::error_code ignored;
    lowest().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close(ignored);
  }

  Stream stream_;
  asio::steady_timer timer_;
  service& svc_;
  session_set<drainable>& sessions_;
  std::list<std::weak_ptr<drainable>>::iterator self_;
  bool registered_ = false;
  mllp_decoder decoder_;
  std::array<char, 64 * 1024> buffer_{};
  std::vector<std::string> frames_;
  std::vector<reply> replies_;
  std::size_t waiting_ = 0;
  mllp_error frame_error_ = mllp_error::none;
  std::string out_;
  std::string peer_;
  bool busy_ = false;
  bool closing_ = false;
  bool draining_ = false;
};

struct mllp_server::impl : std::enable_shared_from_this<mllp_server::impl> {
  impl(asio::io_context& io, service& owner) : acceptor(io), svc(owner) {}
  tcp::acceptor acceptor;
  service& svc;
  std::shared_ptr<asio::ssl::context> tls;  // null: plain TCP
  session_set<drainable> sessions;

  void accept() {
    // Each connection on its own strand: its answers arrive from the committer thread.
    acceptor.async_accept(
        asio::make_strand(acceptor.get_executor()),
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
          if (!ec) self->admit(std::move(socket));
          self->accept();
        });
  }

  void admit(tcp::socket socket) {
    const auto& c = svc.config().mllp;
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) return;
    if (!allowed(c.allow, remote.address().to_string())) {
      svc.connection_refused("mllp", "not-allowed");
      socket.close(ec);
      return;
    }
    if (svc.connections("mllp") >= c.max_connections) {
      svc.connection_refused("mllp", "limit");
      socket.close(ec);
      return;
    }
    svc.connection_opened("mllp");
    if (tls) {
      std::make_shared<mllp_session<asio::ssl::stream<tcp::socket>>>(std::move(socket), svc,
                                                                     sessions, *tls)
          ->start();
    } else {
      std::make_shared<mllp_session<tcp::socket>>(std::move(socket), svc, sessions)->start();
    }
  }
};

mllp_server::mllp_server(asio::io_context& io, service& svc)
    : impl_(std::make_shared<impl>(io, svc)) {
  const auto& c = svc.config().mllp;
  if (c.tls.enabled()) impl_->tls = tls_context(c.tls, "mllp");
  listen(impl_->acceptor, endpoint_of(c.address, c.port), "MLLP");
  impl_->accept();
}

mllp_server::~mllp_server() = default;

std::uint16_t mllp_server::port() const { return impl_->acceptor.local_endpoint().port(); }

void mllp_server::drain() {
  asio::post(impl_->acceptor.get_executor(), [i = impl_] {
    boost::system::error_code ignored;
    i->acceptor.close(ignored);
  });
  impl_->sessions.each([](drainable& s) { s.drain(); });
}

// ---- HTTP ------------------------------------------------------------------------------------

// One HTTP connection over `Stream`: beast::tcp_stream, or beast::ssl_stream of one.
template <class Stream>
class http_session final : public drainable,
                           public std::enable_shared_from_this<http_session<Stream>> {
  static constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... TlsContext>
  http_session(tcp::socket socket, service& svc, const std::vector<std::string>& tokens,
               session_set<drainable>& sessions, TlsContext&... tls_context)
      : stream_(std::move(socket), tls_context...),
        svc_(svc),
        tokens_(tokens),
        sessions_(sessions) {
    boost::system::error_code ec;
    const auto remote = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    peer_ = ec ? "unknown" : remote.address().to_string();
  }
  ~http_session() override {
    if (registered_) sessions_.remove(self_);
    svc_.connection_closed("http");
  }

  void start() {
    self_ = sessions_.add(this->shared_from_this());
    registered_ = true;
    if constexpr (tls) {
      beast::get_lowest_layer(stream_).expires_after(svc_.config().http.timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  self->svc_.connection_refused("http", "tls-handshake");
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
    parser_.emplace();
    parser_->body_limit(svc_.config().http.body_limit);
    parser_->header_limit(64 * 1024);
    beast::get_lowest_layer(stream_).expires_after(svc_.config().http.timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return close();
    if (ec == http::error::body_limit) {
      return respond(
          {413, "application/json", "{\"error\":\"body larger than the configured limit\"}", {}},
          false, 11);
    }
    if (ec) return close();
    busy_ = true;
    auto req = parser_->release();
    http_request r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.content_type = std::string(req[http::field::content_type]);
    r.authorization = std::string(req[http::field::authorization]);
    r.body = std::move(req.body());
    r.peer = peer_;
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    route(svc_, std::move(r), tokens_,
          [self = this->shared_from_this(), keep_alive, version](http_response response) {
            asio::post(self->stream_.get_executor(), [self, keep_alive, version,
                                                      response = std::move(response)]() mutable {
              self->busy_ = false;
              self->respond(std::move(response), keep_alive && !self->draining_, version);
            });
          });
  }

  void respond(http_response r, bool keep_alive, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version);
    res->set(http::field::server, "covgate");
    res->set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res->set(name, value);
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
  service& svc_;
  const std::vector<std::string>& tokens_;
  session_set<drainable>& sessions_;
  std::list<std::weak_ptr<drainable>>::iterator self_;
  bool registered_ = false;
  std::string peer_;
  bool busy_ = false;
  bool draining_ = false;
};

struct http_server::impl : std::enable_shared_from_this<http_server::impl> {
  impl(asio::io_context& io, service& owner, std::vector<std::string> allowed_tokens)
      : acceptor(io), svc(owner), tokens(std::move(allowed_tokens)) {}
  tcp::acceptor acceptor;
  service& svc;
  std::vector<std::string> tokens;
  std::shared_ptr<asio::ssl::context> tls;  // null: plain HTTP
  session_set<drainable> sessions;

  void accept() {
    acceptor.async_accept(
        asio::make_strand(acceptor.get_executor()),
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
          if (!ec) self->admit(std::move(socket));
          self->accept();
        });
  }

  void admit(tcp::socket socket) {
    boost::system::error_code ec;
    if (svc.connections("http") >= svc.config().http.max_connections) {
      svc.connection_refused("http", "limit");
      socket.close(ec);
      return;
    }
    svc.connection_opened("http");
    if (tls) {
      std::make_shared<http_session<beast::ssl_stream<beast::tcp_stream>>>(std::move(socket), svc,
                                                                           tokens, sessions, *tls)
          ->start();
    } else {
      std::make_shared<http_session<beast::tcp_stream>>(std::move(socket), svc, tokens, sessions)
          ->start();
    }
  }
};

http_server::http_server(asio::io_context& io, service& svc, std::vector<std::string> tokens)
    : impl_(std::make_shared<impl>(io, svc, std::move(tokens))) {
  const auto& c = svc.config().http;
  if (c.tls.enabled()) impl_->tls = tls_context(c.tls, "http");
  listen(impl_->acceptor, endpoint_of(c.address, c.port), "HTTP");
  impl_->accept();
}

http_server::~http_server() = default;

std::uint16_t http_server::port() const { return impl_->acceptor.local_endpoint().port(); }

void http_server::drain() {
  asio::post(impl_->acceptor.get_executor(), [i = impl_] {
    boost::system::error_code ignored;
    i->acceptor.close(ignored);
  });
  impl_->sessions.each([](drainable& s) { s.drain(); });
}

// ---- outbox ----------------------------------------------------------------------------------

namespace {

constexpr auto delivery_timeout = std::chrono::seconds(10);

// A file name from an idempotency key: letters, digits, '-', '_', '.'; the rest becomes '_'.
std::string file_name(const std::string& key) {
  std::string out;
  for (const char c : key) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.';
    out += safe ? c : '_';
  }
  return out;
}

// Write-then-rename: a reader of the directory never sees half a message, and the same key
// lands on the same name, so a redelivery after a crash replaces instead of duplicating.
std::string deliver_to_directory(const destination_config& d, const store::outbox_item& item) {
  std::error_code ec;
  std::filesystem::create_directories(d.directory, ec);
  const auto final_path = d.directory / (file_name(item.key) + ".x12");
  const auto temp_path = d.directory / ("." + file_name(item.key) + ".tmp");
  {
    std::ofstream out(temp_path, std::ios::binary | std::ios::trunc);
    out.write(item.body.data(), static_cast<std::streamsize>(item.body.size()));
    out.flush();
    if (!out) return "cannot write " + temp_path.string();
  }
  std::filesystem::rename(temp_path, final_path, ec);
  return ec ? "cannot rename into " + final_path.string() + ": " + ec.message() : "";
}

// Runs one connection's operations on a private io_context with an overall deadline.
template <class Op>
std::string with_deadline(Op&& op) {
  asio::io_context io;
  std::string error = "timed out";
  op(io, error);
  io.run_for(delivery_timeout);
  return error;
}

std::string deliver_http(const destination_config& d, const store::outbox_item& item) {
  // http://host[:port]/path
  const std::string_view url = std::string_view(d.url).substr(7);
  const auto slash = url.find('/');
  const auto authority = url.substr(0, slash);
  const std::string target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const auto colon = authority.rfind(':');
  const std::string host(authority.substr(0, colon));
  const std::string port =
      colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  return with_deadline([&](asio::io_context& io, std::string& error) {
    auto stream = std::make_shared<beast::tcp_stream>(io);
    auto resolver = std::make_shared<tcp::resolver>(io);
    auto req = std::make_shared<http::request<http::string_body>>(http::verb::post, target, 11);
    req->set(http::field::host, host);
    req->set(http::field::content_type, item.content_type);
    req->set("Idempotency-Key", item.key);
    req->body() = item.body;
    req->prepare_payload();
    auto buffer = std::make_shared<beast::flat_buffer>();
    auto res = std::make_shared<http::response<http::string_body>>();
    stream->expires_after(delivery_timeout);
    resolver->async_resolve(
        host, port,
        [&, stream, req, buffer, res, resolver](beast::error_code ec,
                                                tcp::resolver::results_type r) {
          if (ec) return void(error = "resolve: " + ec.message());
          stream->async_connect(r, [&, stream, req, buffer, res](beast::error_code cec, auto) {
            if (cec) return void(error = "connect: " + cec.message());
            http::async_write(
                *stream, *req, [&, stream, req, buffer, res](beast::error_code wec, std::size_t) {
                  if (wec) return void(error = "write: " + wec.message());
                  http::async_read(
                      *stream, *buffer, *res, [&, stream, res](beast::error_code rec, std::size_t) {
                        if (rec) return void(error = "read: " + rec.message());
                        const auto code = res->result_int();
                        error = code >= 200 && code < 300
                                    ? ""
                                    : "the receiver answered HTTP " + std::to_string(code);
                      });
                });
          });
        });
  });
}

std::string deliver_mllp(const destination_config& d, const store::outbox_item& item) {
  return with_deadline([&](asio::io_context& io, std::string& error) {
    auto socket = std::make_shared<tcp::socket>(io);
    auto resolver = std::make_shared<tcp::resolver>(io);
    auto frame = std::make_shared<std::string>(mllp_frame(item.body));
    auto buffer = std::make_shared<std::array<char, 4096>>();
    auto decoder = std::make_shared<mllp_decoder>();
    auto got_answer = std::make_shared<std::function<void()>>();
    *got_answer = [&, socket, buffer, decoder, got_answer] {
      socket->async_read_some(asio::buffer(*buffer), [&, socket, buffer, decoder, got_answer](
                                                         boost::system::error_code ec,
                                                         std::size_t n) {
        if (ec) return void(error = "no answer from the peer: " + ec.message());
        bool answered = false;
        (void)decoder->put(std::string_view(buffer->data(), n), [&](std::string_view f) {
          if (answered) return;
          answered = true;
          // A NAK, or an HL7 ACK that says AE/AR, is a refusal; anything else an answer.
          if (f == std::string(1, mllp_commit_nak) || f.find("MSA|AE") != std::string_view::npos ||
              f.find("MSA|AR") != std::string_view::npos) {
            error = "the peer refused the message";
          } else {
            error.clear();
          }
        });
        if (!answered)
          (*got_answer)();
        else
          socket->close();
      });
    };
    resolver->async_resolve(
        d.host, std::to_string(d.port),
        [&, socket, frame, resolver, got_answer](boost::system::error_code ec,
                                                 tcp::resolver::results_type r) {
          if (ec) return void(error = "resolve: " + ec.message());
          asio::async_connect(
              *socket, r,
              [&, socket, frame, got_answer](boost::system::error_code cec, const tcp::endpoint&) {
                if (cec) return void(error = "connect: " + cec.message());
                asio::async_write(
                    *socket, asio::buffer(*frame),
                    [&, socket, frame, got_answer](boost::system::error_code wec, std::size_t) {
                      if (wec) {
                        return void(error = "write: " + wec.message());
                      }
                      (*got_answer)();
                    });
              });
        });
  });
}

}  // namespace

outbox_worker::outbox_worker(service& svc) : svc_(svc), thread_([this] { run(); }) {}

outbox_worker::~outbox_worker() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void outbox_worker::notify() {
  {
    std::lock_guard lock(mutex_);
    pending_ = true;
  }
  wake_.notify_all();
}

void outbox_worker::run() {
  const auto& destinations = svc_.config().outbox.destinations;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (stop_) return;
    }
    for (const auto& item : svc_.due(64)) {
      if (item.destination >= destinations.size()) {
        svc_.failed(item, "no such destination (the configuration changed)");
        continue;
      }
      const auto& d = destinations[item.destination];
      const auto error = d.kind == "directory" ? deliver_to_directory(d, item)
                         : d.kind == "http"    ? deliver_http(d, item)
                                               : deliver_mllp(d, item);
      if (error.empty()) {
        svc_.delivered(item);
      } else {
        svc_.failed(item, error);
      }
    }
    // Sleep until the next item is due (or 200 ms, to see items queued since), or a notify.
    auto wait = std::chrono::milliseconds(200);
    if (const auto next = svc_.next_due()) {
      wait = std::clamp(std::chrono::milliseconds(*next - service::now_ms()),
                        std::chrono::milliseconds(0), wait);
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, wait, [this] { return stop_ || pending_; });
    pending_ = false;
  }
}

}  // namespace covgate::transport
