// Load generator for `covgate serve`: closed-loop clients over MLLP (one 837 claim per
// message) and HTTP (one FHIR Observation per POST, keep-alive), at several connection counts.
// One thread, one event loop (like wrk): on a 2-core machine the generator shares the cores
// with the server, so it must cost as little per message as it can (the Node.js client it
// replaces used more CPU per message than the server did). Prints one line per run:
//   serve proto=mllp conns=16 messages=N seconds=S msgs_per_s=R p50_ms=A p99_ms=B p999_ms=C
//   serve_load MLLP_PORT HTTP_PORT SECONDS CONNS[,CONNS...] SCENARIO_DIR
// SCENARIO_DIR holds 2-claim.x12 and 3-late-labs.json (samples/inputs/scenarios/02-…).
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// Every message is new: a new claim id and member id (a new held claim), or a new Observation
// id for a new patient.
class message_source {
 public:
  explicit message_source(const std::string& scenario) {
    claim_ = read_file(scenario + "/2-claim.x12");
    replace_all(claim_, "\n", "");
    rapidjson::Document labs;
    const auto text = read_file(scenario + "/3-late-labs.json");
    labs.Parse(text.c_str(), text.size());
    if (labs.HasParseError() || !labs.HasMember("entry")) {
      throw std::runtime_error("3-late-labs.json is not a Bundle");
    }
    auto& o = labs["entry"][0]["resource"];
    auto& a = labs.GetAllocator();
    o.RemoveMember("id");
    o.AddMember("id", "load-@SERIAL@", a);
    rapidjson::Value identifier(rapidjson::kObjectType);
    identifier.AddMember("system", "http://hl7.org/fhir/sid/us-mbi", a);
    identifier.AddMember("value", "2AA2@SERIAL@", a);
    rapidjson::Value subject(rapidjson::kObjectType);
    subject.AddMember("identifier", identifier, a);
    o.RemoveMember("subject");
    o.AddMember("subject", subject, a);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    o.Accept(writer);
    observation_ = buffer.GetString();
  }

  std::string next_claim() {
    auto c = claim_;
    const auto n = serial();
    replace_all(c, "CSII-LATE", "L" + n);
    replace_all(c, "2AA2AA2AA02", "2AA2" + n);
    replace_all(c, "000000502", "10" + n);  // its own interchange control number (ISA13)
    return c;
  }
  std::string next_observation() {
    auto o = observation_;
    replace_all(o, "@SERIAL@", serial());
    return o;
  }

 private:
  std::string serial() {
    char digits[16];
    std::snprintf(digits, sizeof digits, "%07llu", ++serial_);
    return digits;
  }
  std::string claim_;
  std::string observation_;
  unsigned long long serial_ = 0;
};

enum class protocol { mllp, http };

struct run {
  protocol proto;
  clock_type::time_point deadline;
  message_source& messages;
  std::vector<double> latencies_ms;
  std::string error;
};

// One connection: send, wait for the whole answer, record the latency, send the next.
class client : public std::enable_shared_from_this<client> {
 public:
  client(asio::io_context& io, run& r) : socket_(io), run_(r) {}

  void start(const tcp::endpoint& server) {
    socket_.async_connect(server, [self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return self->fail("connect: " + ec.message());
      self->socket_.set_option(tcp::no_delay(true));
      self->send();
    });
  }

 private:
  void send() {
    if (clock_type::now() >= run_.deadline) {
      boost::system::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    if (run_.proto == protocol::mllp) {
      out_ = '\x0b' + run_.messages.next_claim() + "\x1c\r";
    } else {
      const auto body = run_.messages.next_observation();
      out_ =
          "POST /fhir/Observation HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
          "application/fhir+json\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
    }
    sent_ = clock_type::now();
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (ec) return self->fail("write: " + ec.message());
                        self->read();
                      });
  }

  void read() {
    socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](
                                                      boost::system::error_code ec, std::size_t n) {
      if (ec) return self->fail("read: " + ec.message());
      self->in_.append(self->chunk_.data(), n);
      const auto used = self->answer_length();
      if (used == 0) return self->read();
      if (!self->run_.error.empty()) return;
      self->in_.erase(0, used);
      self->run_.latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(clock_type::now() - self->sent_).count());
      self->send();
    });
  }

  // Bytes of a complete answer at the front of in_, or 0 while it is incomplete.
  std::size_t answer_length() {
    if (run_.proto == protocol::mllp) {
      const auto end = in_.find("\x1c\r");
      return end == std::string::npos ? 0 : end + 2;
    }
    const auto head_end = in_.find("\r\n\r\n");
    if (head_end == std::string::npos) return 0;
    std::string head = in_.substr(0, head_end);
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (head.compare(0, 12, "http/1.1 201") != 0) {
      fail("HTTP answer " + in_.substr(0, in_.find('\r')));
      return in_.size();
    }
    const auto field = head.find("\r\ncontent-length:");
    if (field == std::string::npos) {
      fail("HTTP answer without Content-Length");
      return in_.size();
    }
    const auto length = std::stoul(head.substr(field + 17));
    const auto total = head_end + 4 + length;
    return in_.size() >= total ? total : 0;
  }

  void fail(const std::string& what) {
    if (run_.error.empty()) run_.error = what;
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  tcp::socket socket_;
  run& run_;
  std::string out_;
  std::string in_;
  std::array<char, 16384> chunk_{};
  clock_type::time_point sent_;
};

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(p / 100 * static_cast<double>(sorted.size()));
  return sorted[std::min(sorted.size() - 1, i)];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: serve_load MLLP_PORT HTTP_PORT SECONDS CONNS[,CONNS...] SCENARIO_DIR\n";
    return 2;
  }
  try {
    const auto mllp_port = static_cast<unsigned short>(std::stoul(argv[1]));
    const auto http_port = static_cast<unsigned short>(std::stoul(argv[2]));
    const auto seconds = std::stod(argv[3]);
    std::vector<int> connection_counts;
    std::istringstream list(argv[4]);
    for (std::string item; std::getline(list, item, ',');)
      connection_counts.push_back(std::stoi(item));
    message_source messages(argv[5]);
    const auto loopback = asio::ip::make_address("127.0.0.1");
    for (const auto proto : {protocol::mllp, protocol::http}) {
      for (const int conns : connection_counts) {
        asio::io_context io;
        const auto started = clock_type::now();
        run r{proto,
              started + std::chrono::duration_cast<clock_type::duration>(
                            std::chrono::duration<double>(seconds)),
              messages,
              {},
              {}};
        const tcp::endpoint server(loopback, proto == protocol::mllp ? mllp_port : http_port);
        for (int i = 0; i < conns; ++i) std::make_shared<client>(io, r)->start(server);
        io.run();
        const double elapsed = std::chrono::duration<double>(clock_type::now() - started).count();
        if (!r.error.empty()) {
          std::cerr << "serve_load: " << r.error << "\n";
          return 1;
        }
        auto& l = r.latencies_ms;
        std::sort(l.begin(), l.end());
        std::printf(
            "serve proto=%s conns=%d messages=%zu seconds=%.2f msgs_per_s=%.0f p50_ms=%.3f "
            "p99_ms=%.3f p999_ms=%.3f\n",
            proto == protocol::mllp ? "mllp" : "http", conns, l.size(), elapsed,
            static_cast<double>(l.size()) / elapsed, percentile(l, 50), percentile(l, 99),
            percentile(l, 99.9));
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "serve_load: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
