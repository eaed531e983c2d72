// The counters of `covgate serve` and their Prometheus text exposition. Counters are
// incremented by whoever sees the event (listeners, the durable gate); gauges are sampled
// from the gate and the store when /metrics is read. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
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
};

}  // namespace covgate::server
