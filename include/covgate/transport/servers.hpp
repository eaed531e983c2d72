// The listeners of `covgate serve` (Boost.Asio, Boost.Beast) and the outbox worker: thin
// adapters around server::service (sockets only: nothing is decided here). One session per
// connection, each read bounded by a size limit and a timeout (the Beast advanced-server shape);
// answers go back in order.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "covgate/server/service.hpp"

namespace covgate::transport {

/// Accepts MLLP connections: frames in, framed answers out (MLLP release 2 commit ACKs first
/// when configured). Bytes between frames are skipped; an oversized frame or a missing final
/// CR (when required) is answered with an HL7 ACK AR and the connection closed; a peer idle
/// too long, or stalled mid-frame, is disconnected. Addresses outside the allow-list and
/// connections over the limit are closed at once (counted in metrics).
class mllp_server {
 public:
  mllp_server(boost::asio::io_context& io, server::service& svc);
  ~mllp_server();
  mllp_server(const mllp_server&) = delete;
  mllp_server& operator=(const mllp_server&) = delete;
  [[nodiscard]] std::uint16_t port() const;
  /// Stops accepting and closes idle connections; busy ones close after their answer.
  void drain();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

/// The HTTP API (server::route): POST /x12, POST /hl7v2, the FHIR base /fhir, GET /claims…,
/// /outbox, /healthz, /readyz, /metrics. Each request gets an id (its X-Request-Id when it
/// sent a usable one), echoed in the response's X-Request-Id and its log line; each is counted
/// by route and status.
class http_server {
 public:
  http_server(boost::asio::io_context& io, server::service& svc,
              std::vector<server::bearer_token> tokens);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;
  [[nodiscard]] std::uint16_t port() const;
  /// Replaces the bearer tokens (SIGHUP), from any thread: requests whose headers arrive from
  /// now on are checked against the new ones.
  void set_tokens(std::vector<server::bearer_token> tokens);
  void drain();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

/// One delivery of an outbox item to a destination; "" on success, else why it failed.
///   directory: the file <file_name(key)>.x12 (boundary::file_name: injective), written then
///     linked into place, never replacing another message's file;
///   http: POST with the key in Idempotency-Key (boundary::header_value), 2xx = delivered;
///   mllp: one frame (refused when the body holds frame bytes), the peer's ACK decides.
[[nodiscard]] std::string deliver(const server::destination_config& destination,
                                  const store::outbox_item& item);

/// How an outbox worker delivers one item: deliver(), or for a cluster worker a function that
/// also knows the destination kind "cluster" (its releases go to stream CG_OUT).
using delivery = std::function<std::string(const server::destination_config& destination,
                                           const store::outbox_item& item)>;

/// Delivers the outbox: a thread that takes due items, delivers each to its destination
/// (`deliver_one`) and records the result (retry with backoff, dead letter after the
/// configured attempts).
class outbox_worker {
 public:
  explicit outbox_worker(server::durable_gate& gate, delivery deliver_one = deliver);
  ~outbox_worker();  ///< stops the thread
  outbox_worker(const outbox_worker&) = delete;
  outbox_worker& operator=(const outbox_worker&) = delete;

 private:
  void run();
  server::durable_gate& gate_;
  delivery deliver_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace covgate::transport
