#include "covgate/server/metrics.hpp"

#include <cstdio>

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

std::size_t metrics::connections(std::string_view listener) {
  std::lock_guard lock(mutex_);
  const auto it = connections_.find(listener);
  return it == connections_.end() ? 0 : static_cast<std::size_t>(it->second);
}

std::string metrics::text(const gauges& g) {
  std::lock_guard lock(mutex_);
  std::string out;
  auto line = [&](const std::string& text) { out += text + "\n"; };
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
    const auto n = events_[static_cast<std::size_t>(kind)];
    if (n > 0) {
      line("covgate_events_total{event=\"" + std::string(engine::name(kind)) + "\"} " +
           std::to_string(n));
    }
  }
  line("# HELP covgate_claims Open claims by current outcome.");
  line("# TYPE covgate_claims gauge");
  for (const auto o : model::outcomes) {
    line("covgate_claims{outcome=\"" + std::string(model::name(o)) + "\"} " +
         std::to_string(g.gate.by_outcome[static_cast<std::size_t>(o)]));
  }
  line("# HELP covgate_held_claims_by_reason Open holds by reason code (docs/policy.md).");
  line("# TYPE covgate_held_claims_by_reason gauge");
  for (const auto& r : model::reasons()) {
    const auto n = g.gate.by_reason[static_cast<std::size_t>(r.id)];
    if (n > 0) {
      line("covgate_held_claims_by_reason{reason=\"" + label(r.code) + "\"} " + std::to_string(n));
    }
  }
  line("# HELP covgate_message_seconds Time from receipt to commit, per message.");
  line("# TYPE covgate_message_seconds histogram");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < latency_bounds.size(); ++i) {
    cumulative += latency_buckets_[i];
    char bound[32];
    std::snprintf(bound, sizeof bound, "%g", latency_bounds[i]);
    line("covgate_message_seconds_bucket{le=\"" + std::string(bound) + "\"} " +
         std::to_string(cumulative));
  }
  cumulative += latency_buckets_.back();
  line("covgate_message_seconds_bucket{le=\"+Inf\"} " + std::to_string(cumulative));
  char sum[32];
  std::snprintf(sum, sizeof sum, "%.6f", latency_sum_);
  line("covgate_message_seconds_sum " + std::string(sum));
  line("covgate_message_seconds_count " + std::to_string(latency_count_));
  line("# HELP covgate_outbox_items Outbox messages by state (dead = gave up after retries).");
  line("# TYPE covgate_outbox_items gauge");
  line("covgate_outbox_items{state=\"pending\"} " + std::to_string(g.outbox.pending));
  line("covgate_outbox_items{state=\"delivered\"} " + std::to_string(g.outbox.delivered));
  line("covgate_outbox_items{state=\"dead\"} " + std::to_string(g.outbox.dead));
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
  return out;
}

}  // namespace covgate::server
