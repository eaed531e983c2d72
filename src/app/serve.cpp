// covgate serve: configuration → service → listeners and outbox, until a signal. SIGHUP
// reloads the bearer tokens and the outbox destinations; SIGTERM and SIGINT drain and stop.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <condition_variable>
#include <csignal>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

#include "allocator.hpp"
#include "commands.hpp"
#include "covgate/cluster/subjects.hpp"
#include "covgate/server/build_info.hpp"
#include "covgate/server/config.hpp"
#include "covgate/server/log.hpp"
#include "covgate/server/service.hpp"
#include "covgate/server/store_lock.hpp"
#include "covgate/transport/servers.hpp"
#include "load.hpp"
#include "serve_cluster.hpp"

namespace covgate::app {
namespace {

std::string store_name(const server::server_config& c) {
  return c.store.directory.empty() ? std::string(":memory:") : c.store.directory.string();
}

}  // namespace

int run_serve(const options& o) {
  auto& log = server::log();
  log.configure(o.log_format, o.log_level);
  // The executable's allocator asks for huge pages, which pay off in a batch replay; a server
  // keeps small ones (allocator.hpp says why).
  const bool small_pages = keep_small_pages();
  auto config = load_config(o.config);
  if (o.print_config) {
    std::cout << server::config_text(config);
    return 0;
  }
  if (o.print_nats_mapping) {
    // The block every node's configuration carries (docs/cluster.md §2).
    std::cout << "mappings = {\n  " << cluster::partition_mapping_line(config.cluster.partitions)
              << "\n}\n";
    return 0;
  }
  server::check_files(config);
  auto tokens = server::load_tokens(config.http, config.source);
  if (o.check_config) {
    std::cout << config.source << ": configuration OK (" << server::config_digest(config) << ")\n";
    return 0;
  }
  // The file's digest, before the roles below rewrite their destinations (the same digest
  // --check-config prints and SIGHUP logs).
  const auto digest = server::config_digest(config);
  // --mappings wins over the configuration's "mappings".
  const auto tables = load_tables(o.mappings.empty() ? config.mappings : o.mappings);
  const auto policy = load_policy();
  if (o.config.empty()) {
    log.info("serve",
             "no --config: running on the built-in defaults (covgate serve --print-config "
             "prints them as a file to start from)");
  }
  // A front keeps nothing: its messages are the workers' to store (the store it still opens,
  // in memory, holds nothing), and the workers' releases reach it through CG_OUT.
  // A front's destinations are delivered from CG_OUT by the front, not from its store.
  std::vector<server::destination_config> front_destinations;
  if (config.cluster.front()) {
    config.store.directory.clear();
    front_destinations = std::move(config.outbox.destinations);
    config.outbox.destinations.clear();
  }
  // A worker's one destination is stream CG_OUT (its configuration may name no other).
  if (config.cluster.worker()) {
    server::destination_config cg_out;
    cg_out.kind = "cluster";
    config.outbox.destinations = {cg_out};
  }
  // Before the store opens: a second server on the same directory stops here.
  const server::store_lock lock(config.store.directory);
  server::service svc(config, policy, tables);
  // A front hands what the listeners receive to the cluster instead of the gate.
  std::optional<cluster_front> front;
  if (config.cluster.front()) {
    front.emplace(config, policy, tables, std::move(front_destinations), transport::deliver,
                  svc.counters());
    svc.set_message_port(*front);
    svc.set_outbox_port(*front);   // GET /outbox and retries: the cluster's dead letters
    svc.set_claim_lookup(*front);  // GET /claims/{id}: asked of the workers
    svc.set_review_port(*front);   // reviews: to the claim's holder, through the stream
    svc.set_extra_metrics([&front] { return front->metrics_text(); });
  }
  boost::asio::io_context io;
  std::optional<transport::mllp_server> mllp;
  std::optional<transport::http_server> http;
  if (config.mllp.enabled) mllp.emplace(io, svc);
  if (config.http.enabled) http.emplace(io, svc, tokens);
  // The cluster's messages for the partitions this worker holds go through the same gate.
  std::optional<cluster_worker> worker;
  if (config.cluster.worker()) {
    worker.emplace(config.cluster, svc.gate());
    svc.set_extra_metrics([&worker] { return worker->metrics_text(); });
    svc.set_review_port(*worker);  // reviews go through the stream, to the claim's holder
    worker->answer_claim_lookups([&svc](std::string_view claim_key) {
      // A front shows these: messages named by CG_IN's sequence, which it reads back.
      return svc.claims().claim_json(claim_key, server::durable_gate::now_ms(),
                                     {true, cluster::reference_partition});
    });
    worker->answer_worklist([&svc] { return svc.claims().version(); });
    worker->answer_audit([&svc](const model::date& as_of) {
      return server::build_store_audit(svc.config(), svc.gate(), as_of, svc.policy(), svc.tables());
    });
  }
  // Started after the worker, whose CG_OUT it may deliver to, and stopped before it.
  std::optional<transport::outbox_worker> outbox;
  if (worker) {
    outbox.emplace(
        svc.gate(), [&worker](const server::destination_config& d, const store::outbox_item& item) {
          return d.kind == "cluster" ? worker->publish_release(item) : transport::deliver(d, item);
        });
  } else if (!config.outbox.destinations.empty()) {
    outbox.emplace(svc.gate());
  }
  // Retention at start and then hourly (the journal's byte limit also holds as rows are
  // written), on a thread of its own: a first pass over a backlog (a million delivered outbox
  // items take seconds) must neither delay the listeners nor hold an I/O thread.
  std::jthread retention([&svc, &log](std::stop_token stop) {
    std::mutex idle;
    std::condition_variable_any wake;
    while (!stop.stop_requested()) {
      const auto n = svc.gate().prune(stop);
      if (n.messages > 0 || n.delivered_items > 0) {
        log.info(
            "store", "retention",
            {{"deleted_messages", n.messages}, {"deleted_delivered_items", n.delivered_items}});
      }
      std::unique_lock idling(idle);
      (void)wake.wait_for(idling, stop, std::chrono::hours(1), [] { return false; });
    }
  });
  // SIGHUP: the tokens and the outbox destinations from FILE again; nothing changes when it
  // does not load (the server keeps running on what it has).
  boost::asio::signal_set hangup(io, SIGHUP);
  std::function<void()> wait_hangup = [&] {
    hangup.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      try {
        const auto next = load_config(o.config);
        auto next_tokens = server::load_tokens(next.http, next.source);
        if (http) http->set_tokens(std::move(next_tokens));
        // A worker's one destination, CG_OUT, does not come from the file; a front's are
        // read once, at start (each is a consumer of CG_OUT).
        if (!worker && !front) {
          svc.gate().set_destinations(next.outbox.destinations);
          if (!outbox && !next.outbox.destinations.empty()) outbox.emplace(svc.gate());
        }
        svc.counters().reload(true);
        log.info("serve",
                 worker || front ? "reloaded tokens (a cluster role keeps its destinations)"
                                 : "reloaded tokens and outbox destinations",
                 {{"config", next.source},
                  {"digest", server::config_digest(next)},
                  {"destinations", next.outbox.destinations.size()}});
      } catch (const std::exception& e) {
        svc.counters().reload(false);
        log.error("serve", "reload refused; keeping the running settings", {{"reason", e.what()}});
      }
      wait_hangup();
    });
  };
  wait_hangup();
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer grace(io);
  std::chrono::steady_clock::time_point deadline;
  std::function<void()> wait_for_connections;  // outlives the signal handler that starts it
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    svc.set_listening(false);
    log.info("serve", "stopping (finishing in-flight messages)",
             {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
    retention.request_stop();  // no further batch of retention
    hangup.cancel();
    if (worker) worker->stop();  // hands the partitions over before the listeners drain
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
  // The bound addresses on stdout (scripts read the ports chosen for port 0), and in the log.
  const auto mllp_at = mllp ? config.mllp.address + ":" + std::to_string(mllp->port()) : "";
  const auto http_at = http ? config.http.address + ":" + std::to_string(http->port()) : "";
  std::cout << "covgate serve:";
  if (mllp) std::cout << " mllp " << mllp_at;
  if (http) std::cout << " http " << http_at;
  if (worker) std::cout << " cluster-worker " << config.cluster.worker_id;
  if (front) std::cout << " cluster-front " << config.cluster.worker_id;
  std::cout << " store " << store_name(config) << std::endl;
  svc.set_listening(true);
  log.info("serve", "started",
           {{"version", server::version()},
            {"revision", server::revision()},
            {"mllp", mllp ? mllp_at : "disabled"},
            {"http", http ? http_at : "disabled"},
            {"store", store_name(config)},
            {"config", config.source},
            {"config_digest", digest},
            {"tokens", tokens.size()},
            {"outbox_destinations", config.outbox.destinations.size()},
            {"huge_pages", small_pages ? "off" : "as the kernel allows"}});
  const unsigned workers =
      config.workers > 0 ? config.workers : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < workers; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  // Answers still being committed are posted to the (stopped) io_context: finish them
  // while it exists.
  outbox.reset();  // before the worker it may publish through
  worker.reset();
  front.reset();             // anything still waiting for workers is answered unavailable
  retention.request_stop();  // between two batches at most
  retention.join();
  svc.gate().shutdown();
  log.info("serve", "stopped");
  return 0;
}

}  // namespace covgate::app
