#include "covgate/server/metrics.hpp"

#include <cstdio>

#include "covgate/server/build_info.hpp"
#include "covgate/server/process_stats.hpp"

namespace covgate::server {
namespace {

// Histogram bounds of the message latency, in seconds (Prometheus "le").
constexpr std::array<double, 12> latency_bounds = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,  0.5,   1.0,  5.0};

constexpr engine::event_kind event_kinds[] = {
    engine::event_kind::hold,   engine::event_kind::release,    engine::event_kind::reopened,
    engine::event_kind::repeat, engine::event_kind::void_claim, engine::event_kind::cancel};

// Label values are our own names (kinds, reason codes, listener names): quote them anyway.
std::string label(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6f", seconds);
  return text;
}

}  // namespace

void metrics::message(std::string_view channel, std::string_view kind, bool rejected,
                      std::uint32_t repeated_interchanges) {
  std::lock_guard lock(mutex_);
  ++messages_[{std::string(channel), std::string(kind)}];
  if (rejected) ++rejected_[std::string(kind)];
  repeated_interchanges_ += repeated_interchanges;
}

void metrics::event(engine::event_kind kind) {
  std::lock_guard lock(mutex_);
  ++events_[static_cast<std::size_t>(kind)];
}

void metrics::latency(double seconds) {
  std::lock_guard lock(mutex_);
  std::size_t bucket = 0;
  while (bucket < latency_bounds.size() && seconds > latency_bounds[bucket]) ++bucket;
  ++latency_buckets_[bucket];
  latency_sum_ += seconds;
  ++latency_count_;
}

void metrics::committed(std::size_t messages) {
  std::lock_guard lock(mutex_);
  ++groups_;
  grouped_messages_ += messages;
}

void metrics::store_failure() {
  std::lock_guard lock(mutex_);
  ++store_failures_;
}

void metrics::connection_opened(std::string_view listener) {
  std::lock_guard lock(mutex_);
  ++connections_[std::string(listener)];
}

void metrics::connection_closed(std::string_view listener) {
  std::lock_guard lock(mutex_);
  --connections_[std::string(listener)];
}

void metrics::connection_refused(std::string_view listener, std::string_view reason) {
  std::lock_guard lock(mutex_);
  ++refused_[{std::string(listener), std::string(reason)}];
}

void metrics::http_request(std::string_view route, std::string_view method, unsigned status) {
  std::lock_guard lock(mutex_);
  ++http_requests_[{std::string(route), std::string(method), status}];
}

void metrics::outbox_attempt(std::string_view kind, bool delivered, double seconds, bool dead) {
  std::lock_guard lock(mutex_);
  ++outbox_attempts_[{std::string(kind), delivered}];
  std::size_t bucket = 0;
  while (bucket < latency_bounds.size() && seconds > latency_bounds[bucket]) ++bucket;
  ++outbox_buckets_[bucket];
  outbox_sum_ += seconds;
  ++outbox_count_;
  if (dead) ++outbox_dead_;
}

void metrics::reload(bool applied) {
  std::lock_guard lock(mutex_);
  ++reloads_[applied ? 1 : 0];
}

std::size_t metrics::connections(std::string_view listener) {
  std::lock_guard lock(mutex_);
  const auto it = connections_.find(listener);
  return it == connections_.end() ? 0 : static_cast<std::size_t>(it->second);
}

std::string metrics::text(const gauges& g) {
  std::lock_guard lock(mutex_);
  std::string out;
  auto line = [&](const std::string& text) { out += text + "\n"; };
  auto histogram = [&](const std::string& name, const std::array<std::uint64_t, 13>& buckets,
                       double sum, std::uint64_t count) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < latency_bounds.size(); ++i) {
      cumulative += buckets[i];
      char bound[32];
      std::snprintf(bound, sizeof bound, "%g", latency_bounds[i]);
      line(name + "_bucket{le=\"" + bound + "\"} " + std::to_string(cumulative));
    }
    cumulative += buckets.back();
    line(name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative));
    line(name + "_sum " + seconds_text(sum));
    line(name + "_count " + std::to_string(count));
  };
  line("# HELP covgate_messages_total Messages accepted and answered, by channel and kind.");
  line("# TYPE covgate_messages_total counter");
  for (const auto& [key, n] : messages_) {
    line("covgate_messages_total{channel=\"" + label(key.first) + "\",kind=\"" + label(key.second) +
         "\"} " + std::to_string(n));
  }
  line("# HELP covgate_messages_rejected_total Messages refused in whole or in part, by kind.");
  line("# TYPE covgate_messages_rejected_total counter");
  for (const auto& [kind, n] : rejected_) {
    line("covgate_messages_rejected_total{kind=\"" + label(kind) + "\"} " + std::to_string(n));
  }
  line("# HELP covgate_repeated_interchanges_total Interchanges sent again, answered as before.");
  line("# TYPE covgate_repeated_interchanges_total counter");
  line("covgate_repeated_interchanges_total " + std::to_string(repeated_interchanges_));
  line("# HELP covgate_events_total Claim events (hold, release, reopened, void, repeat...).");
  line("# TYPE covgate_events_total counter");
  for (const auto kind : event_kinds) {
    line("covgate_events_total{event=\"" + std::string(engine::name(kind)) + "\"} " +
         std::to_string(events_[static_cast<std::size_t>(kind)]));
  }
  line("# HELP covgate_claims Open claims by current outcome.");
  line("# TYPE covgate_claims gauge");
  for (const auto o : model::outcomes) {
    line("covgate_claims{outcome=\"" + std::string(model::name(o)) + "\"} " +
         std::to_string(g.gate.by_outcome[static_cast<std::size_t>(o)]));
  }
  line(
      "# HELP covgate_held_claims Open holds by reason code (docs/policy.md); a claim counts "
      "once per reason.");
  line("# TYPE covgate_held_claims gauge");
  for (const auto& r : model::reasons()) {
    if (r.result == model::outcome::release) continue;
    line("covgate_held_claims{reason=\"" + label(r.code) + "\"} " +
         std::to_string(g.gate.by_reason[static_cast<std::size_t>(r.id)]));
  }
  line("# HELP covgate_oldest_hold_seconds Age of the oldest open hold (0 when none).");
  line("# TYPE covgate_oldest_hold_seconds gauge");
  line("covgate_oldest_hold_seconds " + seconds_text(g.oldest_hold_seconds));
  line("# HELP covgate_message_seconds Time from receipt to commit, per message.");
  line("# TYPE covgate_message_seconds histogram");
  histogram("covgate_message_seconds", latency_buckets_, latency_sum_, latency_count_);
  line(
      "# HELP covgate_outbox_items Outbox messages by state (dead = gave up after retries; "
      "delivered = kept until outbox.delivered_max_age_days).");
  line("# TYPE covgate_outbox_items gauge");
  line("covgate_outbox_items{state=\"pending\"} " + std::to_string(g.outbox.pending));
  line("covgate_outbox_items{state=\"delivered\"} " + std::to_string(g.outbox.delivered));
  line("covgate_outbox_items{state=\"dead\"} " + std::to_string(g.outbox.dead));
  line("# HELP covgate_outbox_attempts_total Delivery attempts by destination kind and result.");
  line("# TYPE covgate_outbox_attempts_total counter");
  for (const auto& [key, n] : outbox_attempts_) {
    line("covgate_outbox_attempts_total{kind=\"" + label(key.first) + "\",result=\"" +
         (key.second ? "delivered" : "failed") + "\"} " + std::to_string(n));
  }
  line("# HELP covgate_outbox_delivery_seconds Time of each delivery attempt.");
  line("# TYPE covgate_outbox_delivery_seconds histogram");
  histogram("covgate_outbox_delivery_seconds", outbox_buckets_, outbox_sum_, outbox_count_);
  line("# HELP covgate_outbox_dead_total Items that became dead (gave up after max_attempts).");
  line("# TYPE covgate_outbox_dead_total counter");
  line("covgate_outbox_dead_total " + std::to_string(outbox_dead_));
  line("# HELP covgate_store_bytes Size of the store's database files.");
  line("# TYPE covgate_store_bytes gauge");
  line("covgate_store_bytes " + std::to_string(g.store_bytes));
  line("# HELP covgate_journal_bytes Bytes of raw messages kept in the journal.");
  line("# TYPE covgate_journal_bytes gauge");
  line("covgate_journal_bytes " + std::to_string(g.journal_bytes));
  line("# HELP covgate_journal_pruned_total Journal rows deleted by retention.");
  line("# TYPE covgate_journal_pruned_total counter");
  line("covgate_journal_pruned_total " + std::to_string(g.journal_pruned));
  line(
      "# HELP covgate_commit_groups_total Store commits; messages per commit = messages / groups.");
  line("# TYPE covgate_commit_groups_total counter");
  line("covgate_commit_groups_total " + std::to_string(groups_));
  line("# HELP covgate_committed_messages_total Messages and reviewer actions committed.");
  line("# TYPE covgate_committed_messages_total counter");
  line("covgate_committed_messages_total " + std::to_string(grouped_messages_));
  line("# HELP covgate_store_failures_total Transactions the store could not commit.");
  line("# TYPE covgate_store_failures_total counter");
  line("covgate_store_failures_total " + std::to_string(store_failures_));
  line("# HELP covgate_connections Open connections by listener.");
  line("# TYPE covgate_connections gauge");
  for (const auto& [listener, n] : connections_) {
    line("covgate_connections{listener=\"" + label(listener) + "\"} " + std::to_string(n));
  }
  line("# HELP covgate_connections_refused_total Connections refused, by listener and reason.");
  line("# TYPE covgate_connections_refused_total counter");
  for (const auto& [key, n] : refused_) {
    line("covgate_connections_refused_total{listener=\"" + label(key.first) + "\",reason=\"" +
         label(key.second) + "\"} " + std::to_string(n));
  }
  line("# HELP covgate_http_requests_total HTTP requests answered, by route, method and status.");
  line("# TYPE covgate_http_requests_total counter");
  for (const auto& [key, n] : http_requests_) {
    const auto& [route, method, status] = key;
    line("covgate_http_requests_total{route=\"" + label(route) + "\",method=\"" + label(method) +
         "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n));
  }
  line("# HELP covgate_reloads_total SIGHUP reloads, applied or refused (the file did not load).");
  line("# TYPE covgate_reloads_total counter");
  line("covgate_reloads_total{result=\"applied\"} " + std::to_string(reloads_[1]));
  line("covgate_reloads_total{result=\"refused\"} " + std::to_string(reloads_[0]));
  line("# HELP covgate_build_info The version and source revision of this binary.");
  line("# TYPE covgate_build_info gauge");
  line("covgate_build_info{version=\"" + label(version()) + "\",revision=\"" + label(revision()) +
       "\"} 1");
  const auto p = sample_process();
  line("# HELP process_cpu_seconds_total User and system CPU time spent, in seconds.");
  line("# TYPE process_cpu_seconds_total counter");
  line("process_cpu_seconds_total " + seconds_text(p.cpu_seconds));
  line("# HELP process_resident_memory_bytes Resident memory size in bytes.");
  line("# TYPE process_resident_memory_bytes gauge");
  line("process_resident_memory_bytes " + std::to_string(p.resident_bytes));
  line("# HELP process_virtual_memory_bytes Virtual memory size in bytes.");
  line("# TYPE process_virtual_memory_bytes gauge");
  line("process_virtual_memory_bytes " + std::to_string(p.virtual_bytes));
  line("# HELP process_open_fds Open file descriptors.");
  line("# TYPE process_open_fds gauge");
  line("process_open_fds " + std::to_string(p.open_fds));
  line("# HELP process_max_fds The most file descriptors the process may open.");
  line("# TYPE process_max_fds gauge");
  line("process_max_fds " + std::to_string(p.max_fds));
  line("# HELP process_start_time_seconds Start time of the process since the Unix epoch.");
  line("# TYPE process_start_time_seconds gauge");
  line("process_start_time_seconds " + seconds_text(p.start_time_seconds));
  return out;
}

}  // namespace covgate::server
