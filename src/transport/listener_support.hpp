// What the MLLP and HTTP listeners share: listening, a registry of live sessions for drain(),
// and the TLS server context. Private to src/transport.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "covgate/transport/config.hpp"

namespace covgate::transport::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

inline tcp::endpoint endpoint_of(const std::string& address, std::uint16_t port) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) throw config_error("not an IP address: " + address);
  return {ip, port};
}

inline void listen(tcp::acceptor& acceptor, const tcp::endpoint& at, const char* what) {
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

// A server TLS context from PEM files: TLS 1.2 or later, no compression or renegotiation.
inline std::shared_ptr<asio::ssl::context> tls_context(const tls_config& tls,
                                                       const char* listener) {
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

}  // namespace covgate::transport::detail
