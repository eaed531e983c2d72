#include "covgate/transport/servers.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>

#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "covgate/hl7v2/mllp.hpp"
#include "covgate/model/boundary.hpp"
#include "covgate/server/log.hpp"

namespace covgate::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto delivery_timeout = std::chrono::seconds(10);

std::string read_whole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Write, then link into place: a reader of the directory never sees half a message, the same
// key always lands on the same (injectively encoded) name, and a file already there is never
// replaced. Finding it with the same bytes means an earlier attempt delivered it (a crash
// before it was marked delivered); with other bytes, something else owns the name and the
// item fails rather than overwrite it.
std::string deliver_to_directory(const server::destination_config& d,
                                 const store::outbox_item& item) {
  const auto name = boundary::file_name(item.key);
  if (!name) return "the idempotency key cannot be a file name (too long)";
  std::error_code ec;
  std::filesystem::create_directories(d.directory, ec);
  const auto final_path = d.directory / (*name + ".x12");
  const auto temp_path = d.directory / ("." + *name + ".tmp");
  {
    std::ofstream out(temp_path, std::ios::binary | std::ios::trunc);
    out.write(item.body.data(), static_cast<std::streamsize>(item.body.size()));
    out.flush();
    if (!out) return "cannot write a temporary file in " + d.directory.string();
  }
  std::filesystem::create_hard_link(temp_path, final_path, ec);
  std::error_code ignored;
  std::filesystem::remove(temp_path, ignored);
  if (!ec) return "";
  if (ec == std::errc::file_exists) {
    // The file's name holds the key (a claim id), so an error names only the directory.
    return read_whole(final_path) == item.body ? ""
                                               : "the file of this key in " + d.directory.string() +
                                                     " already holds another message; not replaced";
  }
  return "cannot link a file into " + d.directory.string() + ": " + ec.message();
}

// One delivery attempt on a private io_context: the operations started by `start` run until
// one of them calls finish() (success: ""; else the reason) or the deadline passes. Whatever
// is left (a timer, a half-open socket) dies with the io_context.
class attempt {
 public:
  template <class Start>
  std::string run(Start&& start) {
    start(*this);
    const auto deadline = std::chrono::steady_clock::now() + delivery_timeout;
    while (!finished_ && io_.run_one_until(deadline) > 0) {
    }
    return finished_ ? error_
                     : "timed out after " + std::to_string(delivery_timeout.count()) + " s";
  }
  void finish(std::string error) {
    if (finished_) return;
    error_ = std::move(error);
    finished_ = true;
  }
  asio::io_context& io() { return io_; }
  [[nodiscard]] bool finished() const { return finished_; }

 private:
  asio::io_context io_;
  std::string error_;
  bool finished_ = false;
};

std::string deliver_http(const server::destination_config& d, const store::outbox_item& item) {
  // http://host[:port]/path
  const std::string_view url = std::string_view(d.url).substr(7);
  const auto slash = url.find('/');
  const auto authority = url.substr(0, slash);
  const std::string target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const auto colon = authority.rfind(':');
  const std::string host(authority.substr(0, colon));
  const std::string port =
      colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  // Everything the operations touch lives here, for as long as run() runs them.
  attempt a;
  beast::tcp_stream stream(a.io());
  tcp::resolver resolver(a.io());
  http::request<http::string_body> req(http::verb::post, target, 11);
  req.set(http::field::host, host);
  req.set(http::field::content_type, item.content_type);
  const auto key = boundary::header_value(item.key);
  if (!key) return "the idempotency key is too long for a header";
  req.set("Idempotency-Key", *key);
  req.body() = item.body;
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  return a.run([&](attempt& self) {
    resolver.async_resolve(host, port, [&](beast::error_code ec, tcp::resolver::results_type r) {
      if (ec) return self.finish("resolve: " + ec.message());
      stream.expires_after(delivery_timeout);
      stream.async_connect(r, [&](beast::error_code cec, const tcp::endpoint&) {
        if (cec) return self.finish("connect: " + cec.message());
        http::async_write(stream, req, [&](beast::error_code wec, std::size_t) {
          if (wec) return self.finish("write: " + wec.message());
          http::async_read(stream, buffer, res, [&](beast::error_code rec, std::size_t) {
            if (rec) return self.finish("read: " + rec.message());
            const auto code = res.result_int();
            self.finish(code >= 200 && code < 300
                            ? ""
                            : "the receiver answered HTTP " + std::to_string(code));
          });
        });
      });
    });
  });
}

std::string deliver_mllp(const server::destination_config& d, const store::outbox_item& item) {
  if (!boundary::mllp_payload_ok(item.body)) {
    return "the message holds an MLLP start or end byte and cannot be framed";
  }
  attempt a;
  tcp::socket socket(a.io());
  tcp::resolver resolver(a.io());
  const std::string frame = hl7v2::mllp_frame(item.body);
  std::array<char, 4096> buffer{};
  hl7v2::mllp_decoder decoder;
  std::function<void()> read_answer = [&] {
    socket.async_read_some(asio::buffer(buffer), [&](boost::system::error_code ec, std::size_t n) {
      if (ec) return a.finish("no answer from the peer: " + ec.message());
      (void)decoder.put(std::string_view(buffer.data(), n), [&](std::string_view f) {
        // A NAK, or an HL7 ACK that says AE/AR, is a refusal; anything else an answer.
        const bool refused = f == std::string_view(&hl7v2::mllp_commit_nak, 1) ||
                             f.find("MSA|AE") != std::string_view::npos ||
                             f.find("MSA|AR") != std::string_view::npos;
        a.finish(refused ? "the peer refused the message" : "");
      });
      if (!a.finished()) read_answer();  // no complete answer yet
    });
  };
  return a.run([&](attempt& self) {
    resolver.async_resolve(
        d.host, std::to_string(d.port),
        [&](boost::system::error_code ec, tcp::resolver::results_type r) {
          if (ec) return self.finish("resolve: " + ec.message());
          asio::async_connect(socket, r, [&](boost::system::error_code cec, const tcp::endpoint&) {
            if (cec) return self.finish("connect: " + cec.message());
            asio::async_write(socket, asio::buffer(frame),
                              [&](boost::system::error_code wec, std::size_t) {
                                if (wec) {
                                  return self.finish("write: " + wec.message());
                                }
                                read_answer();
                              });
          });
        });
  });
}

}  // namespace

std::string deliver(const server::destination_config& d, const store::outbox_item& item) {
  return d.kind == "directory" ? deliver_to_directory(d, item)
         : d.kind == "http"    ? deliver_http(d, item)
                               : deliver_mllp(d, item);
}

outbox_worker::outbox_worker(server::durable_gate& gate, delivery deliver_one)
    : gate_(gate), deliver_(std::move(deliver_one)), thread_([this] { run(); }) {}

outbox_worker::~outbox_worker() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void outbox_worker::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (stop_) return;
    }
    // The list as it is now (SIGHUP may replace it between rounds).
    const auto destinations = gate_.destinations();
    for (const auto& item : gate_.due(64)) {
      {
        std::lock_guard lock(mutex_);  // a stop waits for one attempt, not for a whole round
        if (stop_) return;
      }
      const auto started = std::chrono::steady_clock::now();
      const bool known = item.destination < destinations->size();
      const std::string kind = known ? (*destinations)[item.destination].kind : "none";
      const auto error = known ? deliver_((*destinations)[item.destination], item)
                               : std::string("no such destination (the configuration changed)");
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      // Items are named by their outbox id and destination: their keys hold claim ids.
      if (error.empty()) {
        gate_.delivered(item);
        gate_.counters().outbox_attempt(kind, true, seconds, false);
        server::log().info("outbox", "delivered",
                           {{"item", item.id},
                            {"destination", item.destination},
                            {"kind", kind},
                            {"attempt", item.attempts + 1}});
        continue;
      }
      const bool dead = gate_.failed(item, error);
      gate_.counters().outbox_attempt(kind, false, seconds, dead);
      server::log().write(dead ? server::log_level::error : server::log_level::warn, "outbox",
                          dead ? "delivery failed; item dead (POST /outbox/{id}/retry)"
                               : "delivery failed; will retry",
                          {{"item", item.id},
                           {"destination", item.destination},
                           {"kind", kind},
                           {"attempt", item.attempts + 1},
                           {"reason", error}});
    }
    // Sleep until the next item is due, or 200 ms to see items queued since.
    auto wait = std::chrono::milliseconds(200);
    if (const auto next = gate_.next_due()) {
      wait = std::clamp(std::chrono::milliseconds(*next - server::durable_gate::now_ms()),
                        std::chrono::milliseconds(0), wait);
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, wait, [this] { return stop_; });
  }
}

}  // namespace covgate::transport
