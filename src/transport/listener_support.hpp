// What the MLLP and HTTP listeners share: listening and admitting connections (allow-list,
// connection limit, TCP_NODELAY, metrics), a registry of live sessions for drain(), and the
// TLS server context. Private to src/transport.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "covgate/server/config.hpp"
#include "covgate/server/log.hpp"
#include "covgate/server/metrics.hpp"

namespace covgate::transport::detail {

using server::config_error;
using server::tls_config;

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

// Errors name the configuration (`source`, the listener's key) as config errors do.
inline tcp::endpoint endpoint_of(const std::string& address, std::uint16_t port,
                                 const std::string& source, const std::string& listener) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) {
    throw config_error(source + ": /" + listener + "/address: '" + address +
                       "' is not an IPv4 or IPv6 address");
  }
  return {ip, port};
}

inline void listen(tcp::acceptor& acceptor, const tcp::endpoint& at, const std::string& listener,
                   const std::string& source) {
  boost::system::error_code ec;
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw config_error(source + ": /" + listener + ": cannot listen on " +
                       at.address().to_string() + ":" + std::to_string(at.port()) +
                       " (address, port): " + ec.message());
  }
}

// A connection's id in log lines: unique in the process, across listeners ("c17").
inline std::string next_connection_id() {
  static std::atomic<std::uint64_t> next{0};
  return "c" + std::to_string(++next);
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

// A server TLS context from PEM files: TLS 1.2 or later, no compression or renegotiation.
inline std::shared_ptr<asio::ssl::context> tls_context(const tls_config& tls, const char* listener,
                                                       const std::string& source) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::no_compression |
                   asio::ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(tls.certificate.string(), ec);
  if (!ec) ctx->use_private_key_file(tls.private_key.string(), asio::ssl::context::pem, ec);
  if (ec) {
    throw config_error(source + ": /" + listener + "/tls: cannot load " + tls.certificate.string() +
                       " / " + tls.private_key.string() + ": " + ec.message());
  }
  return ctx;
}

// What drain() needs from a session of any stream type.
struct drainable {
  virtual ~drainable() = default;
  virtual void drain() = 0;
};

// Accepts connections on one endpoint, each on its own strand (answers arrive from the
// committer thread), and admits them: a peer outside the allow-list or over the connection
// limit is closed at once and counted; an admitted one is handed to `start`, which builds its
// session (plain or TLS) and starts it. The session reports its close to the metrics.
class listener : public std::enable_shared_from_this<listener> {
 public:
  using start_session = std::function<void(tcp::socket)>;

  listener(asio::io_context& io, std::string name, const tcp::endpoint& at,
           std::vector<server::network> allow, std::size_t max_connections,
           server::metrics& counters, const std::string& source, start_session start)
      : acceptor_(io),
        name_(std::move(name)),
        allow_(std::move(allow)),
        max_connections_(max_connections),
        metrics_(counters),
        start_(std::move(start)) {
    listen(acceptor_, at, name_, source);
  }

  void accept() {
    acceptor_.async_accept(
        asio::make_strand(acceptor_.get_executor()),
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
          if (!ec) self->admit(std::move(socket));
          self->accept();
        });
  }

  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  /// Stops accepting (from any thread).
  void close() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->acceptor_.close(ignored);
    });
  }

 private:
  void admit(tcp::socket socket) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) return;
    const auto peer = remote.address().to_string();
    if (!server::allowed(allow_, peer)) {
      refuse(socket, peer, "not-allowed");
      return;
    }
    if (metrics_.connections(name_) >= max_connections_) {
      refuse(socket, peer, "limit");
      return;
    }
    // An answer is one write; do not let Nagle hold it back waiting for the peer's ACK.
    socket.set_option(tcp::no_delay(true), ec);
    metrics_.connection_opened(name_);
    start_(std::move(socket));
  }

  void refuse(tcp::socket& socket, const std::string& peer, const char* reason) {
    metrics_.connection_refused(name_, reason);
    server::log().warn(name_, "connection refused", {{"peer", peer}, {"reason", reason}});
    boost::system::error_code ec;
    socket.close(ec);
  }

  tcp::acceptor acceptor_;
  std::string name_;
  std::vector<server::network> allow_;
  std::size_t max_connections_;
  server::metrics& metrics_;
  start_session start_;
};

}  // namespace covgate::transport::detail
