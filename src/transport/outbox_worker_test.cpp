#include <doctest/doctest.h>
#include <boost/asio.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "covgate/transport/servers.hpp"
#include "support/temp_dir.hpp"

using namespace covgate;

namespace {

using covgate::test::temp_dir;

store::outbox_item item(std::string key, std::string body) {
  return {1, std::move(key), 0, "application/edi-x12", std::move(body), 0};
}

std::set<std::string> names_in(const std::filesystem::path& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

}  // namespace

TEST_SUITE("transport.outbox_worker") {
  TEST_CASE("regression: claims X/1 and X_1 get two files; neither is lost") {
    temp_dir dir;
    server::destination_config d;
    d.kind = "directory";
    d.directory = dir.path;
    CHECK(transport::deliver(d, item("X/1:2", "first")) == "");
    CHECK(transport::deliver(d, item("X_1:2", "second")) == "");
    CHECK(names_in(dir.path) == std::set<std::string>{"X%2F1%3A2.x12", "X_1%3A2.x12"});
  }

  TEST_CASE("a redelivery of the same item succeeds; another message never replaces a file") {
    temp_dir dir;
    server::destination_config d;
    d.kind = "directory";
    d.directory = dir.path;
    CHECK(transport::deliver(d, item("K:1", "body")) == "");
    CHECK(transport::deliver(d, item("K:1", "body")) == "");  // after a crash, say
    CHECK_FALSE(transport::deliver(d, item("K:1", "other")).empty());
    std::ifstream in(dir.path / "K%3A1.x12");
    std::string text;
    std::getline(in, text);
    CHECK(text == "body");
    CHECK(names_in(dir.path).size() == 1);  // no temporary left behind
  }

  TEST_CASE("keys with control bytes or path characters never escape the folder") {
    temp_dir dir;
    server::destination_config d;
    d.kind = "directory";
    d.directory = dir.path / "out";
    CHECK(transport::deliver(d, item("../../etc/x\r\n\x0B\x1C:1", "b")) == "");
    const auto names = names_in(d.directory);
    REQUIRE(names.size() == 1);
    CHECK(names.begin()->find('/') == std::string::npos);
    CHECK(std::filesystem::is_directory(dir.path / "out"));
    CHECK(names_in(dir.path).size() == 1);                                         // only "out"
    CHECK_FALSE(transport::deliver(d, item(std::string(300, 'k'), "b")).empty());  // too long
  }

  TEST_CASE("regression: an MLLP destination refuses a body that would forge frames") {
    server::destination_config d;
    d.kind = "mllp";
    d.host = "127.0.0.1";
    d.port = 9;  // never reached: refused before connecting
    const auto error = transport::deliver(d, item("K:1", "ISA*\x1C\rMSH|forged"));
    CHECK(error.find("frame") != std::string::npos);
  }

  TEST_CASE("regression: an idempotency key with CR LF cannot inject HTTP headers") {
    namespace asio = boost::asio;
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    std::string request;
    std::thread receiver([&] {
      auto socket = acceptor.accept();
      asio::streambuf buffer;
      asio::read_until(socket, buffer, "\r\n\r\n");
      request.assign(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
      const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
      asio::write(socket, asio::buffer(answer));
    });
    server::destination_config d;
    d.kind = "http";
    d.url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/in";
    CHECK(transport::deliver(d, item("X\r\nInjected: yes:1", "body")) == "");
    receiver.join();
    CHECK(request.find("\r\nInjected:") == std::string::npos);
    CHECK(request.find("Idempotency-Key: X%0D%0AInjected: yes:1\r\n") != std::string::npos);
  }
}
