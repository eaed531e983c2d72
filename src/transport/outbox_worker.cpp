#include "covgate/transport/servers.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>

#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "covgate/transport/mllp.hpp"

namespace covgate::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

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
