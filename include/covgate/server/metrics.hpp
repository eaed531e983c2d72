// The counters of `covgate serve` and their Prometheus text exposition. Counters are
// incremented by whoever sees the event (listeners, the durable gate, the outbox worker);
// gauges are sampled from the gate and the store when /metrics is read, process_* from the
// operating system, covgate_build_info from the build. Label values are our own words
// (routes, kinds, reason codes), never what a sender wrote. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "covgate/engine/event.hpp"
#include "covgate/engine/gate.hpp"
#include "covgate/store/sqlite_store.hpp"

namespace covgate::server {

class metrics {
 public:
  /// What is sampled when the text is asked for.
  struct gauges {
    engine::statistics gate;
    store::outbox_counts outbox;
    std::uint64_t store_bytes = 0;
    std::uint64_t journal_bytes = 0;
    std::uint64_t journal_pruned = 0;
    /// Seconds since the oldest open hold was put on hold (0 when nothing is held).
    double oldest_hold_seconds = 0;
  };

  void message(std::string_view channel, std::string_view kind, bool rejected,
               std::uint32_t repeated_interchanges);
  void event(engine::event_kind kind);
  void latency(double seconds);
  void committed(std::size_t messages);
  void store_failure();

  void connection_opened(std::string_view listener);
  void connection_closed(std::string_view listener);
  void connection_refused(std::string_view listener, std::string_view reason);
  [[nodiscard]] std::size_t connections(std::string_view listener);

  /// An HTTP request answered: its route (route_label(), never the raw path), method and
  /// status.
  void http_request(std::string_view route, std::string_view method, unsigned status);
  /// One outbox delivery attempt to a destination of `kind` ("directory", "http", "mllp"):
  /// delivered or not, how long it took, and whether the item is now dead.
  void outbox_attempt(std::string_view kind, bool delivered, double seconds, bool dead);
  /// A SIGHUP reload, applied or refused (the configuration did not load).
  void reload(bool applied);

  /// Prometheus text exposition (version 0.0.4).
  [[nodiscard]] std::string text(const gauges& sampled);

 private:
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> messages_;  // (channel, kind)
  std::map<std::string, std::uint64_t> rejected_;                          // kind
  std::array<std::uint64_t, 6> events_{};                                  // by event_kind
  std::uint64_t repeated_interchanges_ = 0;
  std::array<std::uint64_t, 13> latency_buckets_{};  // per bucket; cumulative when written
  double latency_sum_ = 0;
  std::uint64_t latency_count_ = 0;
  std::uint64_t groups_ = 0;
  std::uint64_t grouped_messages_ = 0;
  std::uint64_t store_failures_ = 0;
  std::map<std::string, std::int64_t, std::less<>> connections_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> refused_;
  std::map<std::tuple<std::string, std::string, unsigned>, std::uint64_t> http_requests_;
  std::map<std::pair<std::string, bool>, std::uint64_t> outbox_attempts_;  // (kind, delivered)
  std::array<std::uint64_t, 13> outbox_buckets_{};
  double outbox_sum_ = 0;
  std::uint64_t outbox_count_ = 0;
  std::uint64_t outbox_dead_ = 0;
  std::array<std::uint64_t, 2> reloads_{};  // refused, applied
};

}  // namespace covgate::server
