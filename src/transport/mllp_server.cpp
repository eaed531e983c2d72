#include "covgate/transport/servers.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <type_traits>

#include "covgate/hl7v2/ack.hpp"
#include "covgate/hl7v2/mllp.hpp"
#include "covgate/model/boundary.hpp"
#include "covgate/server/log.hpp"
#include "listener_support.hpp"

namespace covgate::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using detail::drainable;
using detail::endpoint_of;
using detail::session_set;
using detail::tls_context;

// One MLLP connection over `Stream`: tcp::socket, or asio::ssl::stream<tcp::socket> with TLS.
template <class Stream>
class mllp_session final : public drainable,
                           public std::enable_shared_from_this<mllp_session<Stream>> {
  static constexpr bool tls = !std::is_same_v<Stream, tcp::socket>;

 public:
  template <class... TlsContext>
  mllp_session(tcp::socket socket, server::service& svc, session_set<drainable>& sessions,
               std::atomic<std::size_t>& buffered, TlsContext&... tls_context)
      : stream_(std::move(socket), tls_context...),
        timer_(stream_.get_executor()),
        svc_(svc),
        sessions_(sessions),
        buffered_(buffered),
        decoder_({svc.config().mllp.max_frame_bytes, svc.config().mllp.require_final_cr}),
        connection_(detail::next_connection_id()) {
    boost::system::error_code ec;
    const auto remote = lowest().remote_endpoint(ec);
    peer_ = ec ? "unknown" : remote.address().to_string();
    server::log().debug("mllp", "connection opened",
                        {{"connection", connection_}, {"peer", peer_}});
  }
  ~mllp_session() override {
    buffered_ -= held_;
    if (registered_) sessions_.remove(self_);
    svc_.counters().connection_closed("mllp");
    server::log().debug("mllp", "connection closed", {{"connection", connection_}});
  }

  void start() {
    self_ = sessions_.add(this->shared_from_this());
    registered_ = true;
    idle_deadline_ = std::chrono::steady_clock::now() + svc_.config().mllp.idle_timeout;
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
                                  self->svc_.counters().connection_refused("mllp", "tls-handshake");
                                  server::log().warn("mllp", "connection refused",
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
    // Absolute deadlines: a started frame must complete within read_timeout of its first
    // byte, and a connection between frames is idle from its last frame on, whatever trickles
    // in meanwhile (one byte every second must not keep a connection forever).
    timer_.expires_at(decoder_.inside_frame() ? frame_deadline_ : idle_deadline_);
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
    read_at_ = std::chrono::steady_clock::now();
    frames_.clear();
    const bool was_inside = decoder_.inside_frame();
    const auto error = decoder_.put(std::string_view(buffer_.data(), n),
                                    [&](std::string_view f) { frames_.emplace_back(f); });
    if (error != hl7v2::mllp_error::none) frame_error_ = error;
    if (decoder_.inside_frame() && (!was_inside || !frames_.empty())) {
      frame_deadline_ = std::chrono::steady_clock::now() + svc_.config().mllp.read_timeout;
    }
    if (!account() && frame_error_ == hl7v2::mllp_error::none) {
      // Over the server-wide budget: this connection's partial frame is refused, not held
      // (its complete frames are still answered; then the connection closes).
      svc_.counters().connection_refused("mllp", "buffer-budget");
      server::log().warn(
          "mllp", "connection refused",
          {{"connection", connection_}, {"peer", peer_}, {"reason", "buffer-budget"}});
      over_budget_ = true;
    }
    replies_.assign(frames_.size(), {});
    waiting_ = frames_.size();
    if (waiting_ == 0) return answer();
    // Each frame is handed to the gate (it keeps it until processed; the buffer count keeps
    // it until its answer) and answered after its group commits; answers come back on this
    // connection's strand, in order.
    for (const auto& f : frames_) submitted_bytes_ += f.capacity();
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      svc_.messages().submit(std::move(frames_[i]), "mllp", peer_,
                             [self = this->shared_from_this(), i](server::reply r) {
                               asio::post(self->stream_.get_executor(),
                                          [self, i, r = std::move(r)]() mutable {
                                            self->replies_[i] = std::move(r);
                                            if (--self->waiting_ == 0) self->answer();
                                          });
                             });
    }
  }

  // Brings this connection's share of the server-wide buffer count up to date (the decoder's
  // partial frame and the complete frames waiting for their commit); false when the total is
  // over max_buffered_bytes while this connection holds a partial frame.
  bool account() {
    std::size_t now = decoder_.buffered_bytes();
    for (const auto& f : frames_) now += f.capacity();
    now += submitted_bytes_;
    buffered_ += now;
    buffered_ -= held_;
    held_ = now;
    return !decoder_.inside_frame() || buffered_.load() <= svc_.config().mllp.max_buffered_bytes;
  }

  // All frames of the last read are committed (or failed): write their answers.
  void answer() {
    const bool commit_acks = svc_.config().mllp.commit_acks;
    for (const auto& r : replies_) log_reply(r);
    for (const auto& r : replies_) {
      if (!r.durable) {
        // Not stored, so not acknowledged: a release-2 peer gets a NAK, any peer a closed
        // connection, and resends.
        if (commit_acks) out_ += hl7v2::mllp_frame(std::string(1, hl7v2::mllp_commit_nak));
        closing_ = true;
        break;
      }
      if (commit_acks) out_ += hl7v2::mllp_frame(std::string(1, hl7v2::mllp_commit_ack));
      if (r.refused) {
        // Refused as sent (a cluster front that cannot route it): an HL7 ACK AR with the
        // reason, which an interface engine files instead of retrying.
        hl7v2::hl7_ack_settings s;
        s.control_id = "CGREFUSED";
        out_ += hl7v2::mllp_frame(hl7v2::hl7_ack(nullptr, "AR", "207", r.problem, s));
      } else if (r.unrecognized) {
        // Nothing a reader could answer in its own standard: the MLLP peer gets an HL7 ACK
        // AR, which any interface engine files instead of retrying.
        hl7v2::hl7_ack_settings s;
        s.control_id = "CG" + std::to_string(r.journal_id);
        out_ += hl7v2::mllp_frame(hl7v2::hl7_ack(
            nullptr, "AR", "200",
            "Unrecognized payload: not X12 (ISA), FHIR (JSON or XML) or HL7 v2 (MSH)", s));
      } else if (r.kind == engine::payload_kind::hl7v2) {
        // HL7 v2: each ACK is a message, so a frame, of its own (a commit ACK, then the
        // application ACK; one per message of a batch). Echoed MSH fields come from a frame,
        // which cannot hold the frame bytes; checked all the same.
        for (const auto& ack : r.acks) {
          out_ += hl7v2::mllp_frame(boundary::mllp_payload_ok(ack) ? std::string_view(ack) : "");
        }
      } else if (boundary::mllp_payload_ok(r.body)) {
        out_ += hl7v2::mllp_frame(r.body);
      } else {
        // Never happens with what the readers accept; if it did, a frame byte echoed from a
        // sender must not end our frame early and forge another.
        hl7v2::hl7_ack_settings s;
        s.control_id = "CGFRAME";
        out_ += hl7v2::mllp_frame(hl7v2::hl7_ack(
            nullptr, "AE", "207", "the answer could not be framed (MLLP frame bytes)", s));
      }
    }
    if (over_budget_ && !closing_) {
      hl7v2::hl7_ack_settings s;
      s.control_id = "CGBUSY";
      out_ += hl7v2::mllp_frame(hl7v2::hl7_ack(
          nullptr, "AR", "207", "server busy: too many bytes in partial frames; resend later", s));
      closing_ = true;
    }
    if (frame_error_ != hl7v2::mllp_error::none && !closing_) {
      server::log().warn("mllp", "frame refused",
                         {{"connection", connection_},
                          {"peer", peer_},
                          {"reason", hl7v2::describe(frame_error_)}});
      hl7v2::hl7_ack_settings s;
      s.control_id = "CGFRAME";
      const auto text = std::string(hl7v2::describe(frame_error_)) + " (" +
                        std::to_string(svc_.config().mllp.max_frame_bytes) + " bytes)";
      out_ += hl7v2::mllp_frame(hl7v2::hl7_ack(nullptr, "AR", "100", text, s));
      closing_ = true;
    }
    busy_ = false;
    frames_.clear();
    submitted_bytes_ = 0;
    (void)account();
    if (!replies_.empty()) {
      idle_deadline_ = std::chrono::steady_clock::now() + svc_.config().mllp.idle_timeout;
    }
    if (out_.empty()) return closing_ ? close() : read();
    asio::async_write(
        stream_, asio::buffer(out_),
        [self = this->shared_from_this()](boost::system::error_code wec, std::size_t) {
          self->out_.clear();
          if (wec) return self->close();
          if (self->closing_) return self->close_after_answer();
          self->read();
        });
  }

  // One line per message: its journal id, kind and outcome, never its content.
  void log_reply(const server::reply& r) {
    auto& log = server::log();
    const auto level = r.durable ? server::log_level::info : server::log_level::error;
    if (!log.enabled(level)) return;
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - read_at_)
            .count();
    log.write(level, "mllp", r.durable ? "message" : "message not stored",
              {{"connection", connection_},
               {"peer", peer_},
               {"message", r.journal_id > 0 ? "mllp:" + std::to_string(r.journal_id) : ""},
               {"kind", engine::name(r.kind)},
               {"outcome", server::outcome_name(r)},
               {"claims", r.claims},
               {"facts", r.facts},
               {"ms", static_cast<double>(static_cast<std::int64_t>(ms * 1000)) / 1000}});
  }

  // After a last answer to a peer that may still be sending (a frame over the byte budget, a
  // frame refused): closing with its bytes unread would make the kernel reset the connection,
  // and a reset can discard the answer before the peer has read it (seen in the integration
  // test of the byte budget). So the sending side is shut, what still comes is read and
  // dropped, and the socket closes when the peer closes or after a second.
  void close_after_answer() {
    boost::system::error_code ignored;
    lowest().shutdown(tcp::socket::shutdown_send, ignored);
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->close();
    });
    discard_input();
  }

  void discard_input() {
    lowest().async_read_some(asio::buffer(buffer_), [self = this->shared_from_this()](
                                                        boost::system::error_code ec, std::size_t) {
      if (ec) return self->close();  // the peer closed (or the socket did)
      self->discard_input();
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
  server::service& svc_;
  session_set<drainable>& sessions_;
  std::atomic<std::size_t>& buffered_;  // every connection's frame bytes (the server's budget)
  std::size_t held_ = 0;                // this connection's part of it
  std::size_t submitted_bytes_ = 0;     // frames handed to the gate, not yet answered
  std::list<std::weak_ptr<drainable>>::iterator self_;
  bool registered_ = false;
  hl7v2::mllp_decoder decoder_;
  std::chrono::steady_clock::time_point frame_deadline_;  // the started frame must end by then
  std::chrono::steady_clock::time_point idle_deadline_;   // no frame since: close then
  std::array<char, 64 * 1024> buffer_{};
  std::vector<std::string> frames_;
  std::vector<server::reply> replies_;
  std::size_t waiting_ = 0;
  hl7v2::mllp_error frame_error_ = hl7v2::mllp_error::none;
  std::string out_;
  std::string peer_;
  std::string connection_;
  std::chrono::steady_clock::time_point read_at_{};  // when the frames being answered arrived
  bool busy_ = false;
  bool closing_ = false;
  bool draining_ = false;
  bool over_budget_ = false;
};

struct mllp_server::impl {
  std::shared_ptr<asio::ssl::context> tls;  // null: plain TCP
  session_set<drainable> sessions;
  std::atomic<std::size_t> buffered{0};  // bytes in frames across connections
  std::shared_ptr<detail::listener> listener;
};

mllp_server::mllp_server(asio::io_context& io, server::service& svc)
    : impl_(std::make_shared<impl>()) {
  const auto& c = svc.config().mllp;
  if (c.tls.enabled()) impl_->tls = tls_context(c.tls, "mllp", svc.config().source);
  impl_->listener = std::make_shared<detail::listener>(
      io, "mllp", endpoint_of(c.address, c.port, svc.config().source, "mllp"), c.allow,
      c.max_connections, svc.counters(), svc.config().source,
      [&svc, i = impl_.get()](tcp::socket socket) {
        if (i->tls) {
          std::make_shared<mllp_session<asio::ssl::stream<tcp::socket>>>(
              std::move(socket), svc, i->sessions, i->buffered, *i->tls)
              ->start();
        } else {
          std::make_shared<mllp_session<tcp::socket>>(std::move(socket), svc, i->sessions,
                                                      i->buffered)
              ->start();
        }
      });
  impl_->listener->accept();
}

mllp_server::~mllp_server() = default;

std::uint16_t mllp_server::port() const { return impl_->listener->port(); }

void mllp_server::drain() {
  impl_->listener->close();
  impl_->sessions.each([](drainable& s) { s.drain(); });
}

}  // namespace covgate::transport
