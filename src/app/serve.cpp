// covgate serve: configuration → service → listeners and outbox, until a signal.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "covgate/server/config.hpp"
#include "covgate/server/service.hpp"
#include "covgate/transport/servers.hpp"
#include "load.hpp"

namespace covgate::app {

int run_serve(const options& o) {
  const auto config = server::parse_config(
      read_file(o.config), std::filesystem::absolute(o.config).parent_path(), o.config.string());
  // --mappings wins over the configuration's "mappings".
  const auto tables = load_tables(o.mappings.empty() ? config.mappings : o.mappings);
  const auto tokens = server::load_tokens(config.http);
  const auto policy = load_policy();
  server::service svc(config, policy, tables);
  boost::asio::io_context io;
  std::optional<transport::mllp_server> mllp;
  std::optional<transport::http_server> http;
  if (config.mllp.enabled) mllp.emplace(io, svc);
  if (config.http.enabled) http.emplace(io, svc, tokens);
  std::optional<transport::outbox_worker> outbox;
  if (!config.outbox.destinations.empty()) outbox.emplace(svc.gate());
  // Retention runs at start and then hourly (the byte limit also holds as rows are written).
  boost::asio::steady_timer retention(io);
  std::function<void()> prune = [&] {
    const auto n = svc.gate().prune();
    if (n > 0) std::cerr << "covgate serve: journal retention deleted " << n << " messages\n";
    retention.expires_after(std::chrono::hours(1));
    retention.async_wait([&](boost::system::error_code ec) {
      if (!ec) prune();
    });
  };
  prune();
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer grace(io);
  std::chrono::steady_clock::time_point deadline;
  std::function<void()> wait_for_connections;  // outlives the signal handler that starts it
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    std::cerr << "covgate serve: stopping (finishing in-flight messages)\n";
    retention.cancel();
    if (mllp) mllp->drain();
    if (http) http->drain();
    // Stop once every connection has closed, or when the longest read timeout has passed
    // (a peer stalled mid-message gets no longer than it would have anyway).
    deadline =
        std::chrono::steady_clock::now() + std::max(config.mllp.read_timeout, config.http.timeout);
    wait_for_connections = [&] {
      if ((svc.counters().connections("mllp") == 0 && svc.counters().connections("http") == 0) ||
          std::chrono::steady_clock::now() >= deadline) {
        io.stop();
        return;
      }
      grace.expires_after(std::chrono::milliseconds(20));
      grace.async_wait([&](boost::system::error_code) { wait_for_connections(); });
    };
    wait_for_connections();
  });
  std::cout << "covgate serve:";
  if (mllp) std::cout << " mllp " << config.mllp.address << ":" << mllp->port();
  if (http) std::cout << " http " << config.http.address << ":" << http->port();
  std::cout << " store "
            << (config.store.directory.empty() ? std::string(":memory:")
                                               : config.store.directory.string())
            << std::endl;
  const unsigned workers =
      config.workers > 0 ? config.workers : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < workers; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  // Answers still being committed are posted to the (stopped) io_context: finish them
  // while it exists.
  outbox.reset();
  svc.gate().shutdown();
  std::cerr << "covgate serve: stopped\n";
  return 0;
}

}  // namespace covgate::app
